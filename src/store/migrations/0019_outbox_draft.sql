-- frontdesk schema 19: what the agent typed for a reply or forward (without signature or
-- quote), so a reply cancelled before it left can be edited again.
ALTER TABLE outbox ADD COLUMN draft TEXT;
