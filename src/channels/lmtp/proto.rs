//! LMTP (RFC 2033) command parsing and replies: pure, no I/O.

/// A parsed client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `LHLO domain`.
    Lhlo(String),
    /// `HELO`/`EHLO`: not LMTP.
    Helo,
    /// `MAIL FROM:<addr> [params]`.
    Mail {
        /// Reverse path without brackets (`""` for the null sender).
        from: String,
        /// `SIZE=` if given.
        size: Option<u64>,
    },
    /// `RCPT TO:<addr>`.
    Rcpt(String),
    /// `DATA`.
    Data,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY`.
    Vrfy,
    /// `HELP`.
    Help,
}

/// Why a line is not a command we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Unknown verb.
    #[error("500 5.5.1 Command not recognized")]
    Unknown,
    /// Known verb, bad arguments.
    #[error("501 5.5.4 {0}")]
    Syntax(&'static str),
    /// A parameter we do not implement.
    #[error("555 5.5.4 Unsupported parameter {0}")]
    Parameter(String),
}

/// Parse one command line (without CRLF).
pub fn parse_command(line: &[u8]) -> Result<Command, CommandError> {
    let line =
        std::str::from_utf8(line).map_err(|_| CommandError::Syntax("Invalid UTF-8 in command"))?;
    let line = line.trim_end_matches(['\r', '\n']);
    let (verb, rest) = match line.find(' ') {
        Some(i) => (&line[..i], line[i + 1..].trim()),
        None => (line, ""),
    };
    match verb.to_ascii_uppercase().as_str() {
        "LHLO" => {
            if rest.is_empty() {
                Err(CommandError::Syntax("LHLO needs a domain"))
            } else {
                Ok(Command::Lhlo(rest.to_string()))
            }
        }
        "HELO" | "EHLO" => Ok(Command::Helo),
        "MAIL" => parse_mail(rest),
        "RCPT" => {
            let arg = strip_prefix_ci(rest, "TO:")
                .ok_or(CommandError::Syntax("Syntax: RCPT TO:<address>"))?;
            let (path, params) = split_path(arg)?;
            if let Some(p) = params.split_whitespace().next() {
                return Err(CommandError::Parameter(p.to_string()));
            }
            if path.is_empty() {
                return Err(CommandError::Syntax("Empty recipient"));
            }
            Ok(Command::Rcpt(path))
        }
        "DATA" => no_args(rest, Command::Data),
        "RSET" => no_args(rest, Command::Rset),
        "NOOP" => Ok(Command::Noop),
        "QUIT" => no_args(rest, Command::Quit),
        "VRFY" => Ok(Command::Vrfy),
        "HELP" => Ok(Command::Help),
        _ => Err(CommandError::Unknown),
    }
}

fn no_args(rest: &str, command: Command) -> Result<Command, CommandError> {
    if rest.is_empty() {
        Ok(command)
    } else {
        Err(CommandError::Syntax("No arguments allowed"))
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get` keeps a multi-byte character at the cut from panicking.
    match (s.get(..prefix.len()), s.get(prefix.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(prefix) => Some(rest.trim_start()),
        _ => None,
    }
}

/// `<path> params` to (path without brackets, params).
fn split_path(arg: &str) -> Result<(String, &str), CommandError> {
    let arg = arg.trim_start();
    if let Some(rest) = arg.strip_prefix('<') {
        let end = rest
            .find('>')
            .ok_or(CommandError::Syntax("Missing '>' in address"))?;
        let path = &rest[..end];
        // Drop an RFC 5321 source route (`@a,@b:user@c`).
        let path = path.rsplit_once(':').map(|(_, p)| p).unwrap_or(path);
        Ok((path.trim().to_string(), rest[end + 1..].trim()))
    } else {
        // Lenient: a bare address as some clients send it.
        let mut parts = arg.splitn(2, ' ');
        let path = parts.next().unwrap_or("");
        Ok((path.to_string(), parts.next().unwrap_or("").trim()))
    }
}

fn parse_mail(rest: &str) -> Result<Command, CommandError> {
    let arg = strip_prefix_ci(rest, "FROM:")
        .ok_or(CommandError::Syntax("Syntax: MAIL FROM:<address>"))?;
    let (from, params) = split_path(arg)?;
    let mut size = None;
    for p in params.split_whitespace() {
        let (key, value) = p.split_once('=').unwrap_or((p, ""));
        match key.to_ascii_uppercase().as_str() {
            "SIZE" => {
                size = Some(
                    value
                        .parse()
                        .map_err(|_| CommandError::Syntax("Bad SIZE value"))?,
                )
            }
            "BODY" => {
                if !matches!(value.to_ascii_uppercase().as_str(), "7BIT" | "8BITMIME") {
                    return Err(CommandError::Parameter(p.to_string()));
                }
            }
            _ => return Err(CommandError::Parameter(p.to_string())),
        }
    }
    Ok(Command::Mail { from, size })
}

/// The LHLO reply listing our extensions.
pub fn lhlo_reply(hostname: &str, max_size: usize) -> String {
    format!("250-{hostname}\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE {max_size}\r\n")
}

/// Accumulates DATA lines: dot-unstuffing, end detection, size limit.
#[derive(Debug)]
pub struct DataReader {
    /// The message so far.
    pub message: Vec<u8>,
    limit: usize,
    /// True once the message went over the limit; the rest is read and dropped.
    pub oversized: bool,
}

impl DataReader {
    /// A reader that keeps at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        DataReader {
            message: Vec::new(),
            limit,
            oversized: false,
        }
    }

    /// Feed one line including its line ending; true when it was the final `.`.
    pub fn push_line(&mut self, line: &[u8]) -> bool {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content == b"." {
            return true;
        }
        let line = if line.starts_with(b".") {
            &line[1..]
        } else {
            line
        };
        if self.oversized {
            return false;
        }
        if self.message.len() + line.len() > self.limit {
            self.oversized = true;
            self.message = Vec::new();
            return false;
        }
        self.message.extend_from_slice(line);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse_command(b"LHLO mx.example\r\n"),
            Ok(Command::Lhlo("mx.example".into()))
        );
        assert_eq!(parse_command(b"lhlo x"), Ok(Command::Lhlo("x".into())));
        assert_eq!(
            parse_command(b"MAIL FROM:<a@b.c> SIZE=100 BODY=8BITMIME"),
            Ok(Command::Mail {
                from: "a@b.c".into(),
                size: Some(100)
            })
        );
        assert_eq!(
            parse_command(b"MAIL FROM:<>"),
            Ok(Command::Mail {
                from: "".into(),
                size: None
            })
        );
        assert_eq!(
            parse_command(b"mail from: <a@b.c>"),
            Ok(Command::Mail {
                from: "a@b.c".into(),
                size: None
            })
        );
        assert_eq!(
            parse_command(b"RCPT TO:<support@example.com>"),
            Ok(Command::Rcpt("support@example.com".into()))
        );
        assert_eq!(
            parse_command(b"RCPT TO:<@relay:support@example.com>"),
            Ok(Command::Rcpt("support@example.com".into()))
        );
        assert_eq!(parse_command(b"DATA"), Ok(Command::Data));
        assert_eq!(parse_command(b"QUIT"), Ok(Command::Quit));
        assert_eq!(parse_command(b"NOOP hello"), Ok(Command::Noop));
        assert_eq!(parse_command(b"EHLO x"), Ok(Command::Helo));
    }

    #[test]
    fn bad_commands_are_errors() {
        assert_eq!(parse_command(b"BOGUS"), Err(CommandError::Unknown));
        assert_eq!(parse_command(b""), Err(CommandError::Unknown));
        assert!(matches!(
            parse_command(b"LHLO"),
            Err(CommandError::Syntax(_))
        ));
        assert!(matches!(
            parse_command(b"MAIL <a@b>"),
            Err(CommandError::Syntax(_))
        ));
        assert!(matches!(
            parse_command(b"MAIL FROM:<a@b> SIZE=x"),
            Err(CommandError::Syntax(_))
        ));
        assert!(matches!(
            parse_command(b"MAIL FROM:<a@b> SMTPUTF9"),
            Err(CommandError::Parameter(_))
        ));
        assert!(matches!(
            parse_command(b"RCPT TO:<>"),
            Err(CommandError::Syntax(_))
        ));
        assert!(matches!(
            parse_command(b"DATA now"),
            Err(CommandError::Syntax(_))
        ));
        assert!(matches!(
            parse_command(b"RCPT TO:<a@b"),
            Err(CommandError::Syntax(_))
        ));
        assert!(matches!(
            parse_command(&[0xff, 0xfe]),
            Err(CommandError::Syntax(_))
        ));
    }

    #[test]
    fn lhlo_lists_extensions() {
        let r = lhlo_reply("fd", 1000);
        assert_eq!(r, "250-fd\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 1000\r\n");
    }

    #[test]
    fn data_unstuffs_and_ends() {
        let mut d = DataReader::new(100);
        assert!(!d.push_line(b"Subject: x\r\n"));
        assert!(!d.push_line(b"..leading dot\r\n"));
        assert!(d.push_line(b".\r\n"));
        assert_eq!(d.message, b"Subject: x\r\n.leading dot\r\n");
        assert!(!d.oversized);
    }

    #[test]
    fn data_over_limit_is_flagged_and_dropped() {
        let mut d = DataReader::new(10);
        assert!(!d.push_line(b"0123456789abc\r\n"));
        assert!(!d.push_line(b"more\r\n"));
        assert!(d.push_line(b".\n"));
        assert!(d.oversized);
        assert!(d.message.is_empty());
    }

    /// Random and hostile lines never panic the parser.
    #[test]
    fn arbitrary_lines_never_panic() {
        let seeds: &[&[u8]] = &[
            b"MAIL FROM:<",
            b"RCPT TO:",
            b"LHLO ",
            "é".as_bytes(),
            b"\r\n",
            b">",
            b"=",
            b" ",
        ];
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..20_000 {
            let mut line = Vec::new();
            for _ in 0..(x % 12) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x.is_multiple_of(3) {
                    line.push((x >> 8) as u8);
                } else {
                    line.extend_from_slice(seeds[(x % seeds.len() as u64) as usize]);
                }
            }
            let _ = parse_command(&line);
        }
    }
}
