-- Closing tickets left waiting on the customer ([channel.auto_close]): the desk looks
-- for open tickets in a waiting stage, untouched since a moment, every minute at most.
-- Without this it would walk every open ticket each time.
CREATE INDEX tickets_open_stage_change ON tickets(status COLLATE NOCASE, updated_at)
    WHERE closed = 0;
