//! A throw-away Dovecot (IMAP + LMTP) on loopback, run unprivileged from a temp dir with
//! a passwd-file userdb; started and stopped by the tests themselves. The config follows
//! `../shared/bench/dovecot.sh`, plus optional TLS (implicit and STARTTLS listeners) and
//! an OAuth2 passdb whose introspection URL points at a test server.
//!
//! When the tests run as root, Dovecot and every `doveadm` call run as `nobody`, and the
//! temp dir is handed to that user; otherwise everything runs as the current user.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness;

/// The message the tests fail with when Dovecot is missing.
pub const INSTALL_HINT: &str =
    "Dovecot is required for the IMAP tests: apt-get install -y dovecot-imapd dovecot-lmtpd";

/// How long Dovecot may take to start or stop.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// One mailbox user.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name (a full address, so LMTP can deliver to it).
    pub name: String,
    /// Password.
    pub password: String,
}

impl User {
    pub fn new(name: &str, password: &str) -> User {
        User {
            name: name.to_string(),
            password: password.to_string(),
        }
    }
}

/// TLS files for the server (PEM).
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What an instance offers.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub users: Vec<User>,
    /// `ssl = required` with this certificate; adds an implicit-TLS listener.
    pub tls: Option<ServerTls>,
    /// An OAuth2 passdb (XOAUTH2) checking tokens at this introspection URL (POST).
    pub oauth2_introspection_url: Option<String>,
}

/// A running (or stopped) Dovecot.
pub struct Dovecot {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    /// Plain IMAP (STARTTLS offered when TLS is configured).
    pub imap_port: u16,
    /// Implicit TLS; 0 without TLS.
    pub imaps_port: u16,
    pub lmtp_port: u16,
    pub users: Vec<User>,
    child: Option<Child>,
    run_as: Option<(u32, u32)>,
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn find_program(name: &str, fallbacks: &[&str]) -> PathBuf {
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    from_path
        .or_else(|| fallbacks.iter().map(PathBuf::from).find(|p| p.is_file()))
        .unwrap_or_else(|| panic!("{name} not found. {INSTALL_HINT}"))
}

fn dovecot_bin() -> PathBuf {
    find_program("dovecot", &["/usr/sbin/dovecot"])
}

fn doveadm_bin() -> PathBuf {
    find_program("doveadm", &["/usr/bin/doveadm"])
}

/// (uid and gid to switch to, user name, group name) Dovecot runs as.
type Identity = (Option<(u32, u32)>, String, String);

/// (uid, gid, user name, group name) Dovecot runs as: `nobody` when we are root.
fn run_identity() -> Identity {
    // getpwnam(3) and getgrgid(3) answer in buffers shared by the whole process: tests
    // starting Dovecots on parallel threads read each other's half-written answers
    // ("Group doesn't exist: root:x:"). Looked up once, by one thread.
    static IDENTITY: std::sync::OnceLock<Identity> = std::sync::OnceLock::new();
    IDENTITY.get_or_init(look_up_identity).clone()
}

/// [`run_identity`], looked up.
fn look_up_identity() -> Identity {
    // SAFETY: plain libc look-ups, made by one thread (see `run_identity`); the returned
    // structs are read before any other call.
    unsafe {
        if libc::geteuid() == 0 {
            let pw = libc::getpwnam(c"nobody".as_ptr());
            assert!(!pw.is_null(), "no user nobody to run Dovecot as");
            let (uid, gid) = ((*pw).pw_uid, (*pw).pw_gid);
            let gr = libc::getgrgid(gid);
            assert!(!gr.is_null(), "no group for nobody");
            let group = std::ffi::CStr::from_ptr((*gr).gr_name)
                .to_string_lossy()
                .into_owned();
            (Some((uid, gid)), "nobody".to_string(), group)
        } else {
            let uid = libc::geteuid();
            let gid = libc::getegid();
            let pw = libc::getpwuid(uid);
            let gr = libc::getgrgid(gid);
            assert!(!pw.is_null() && !gr.is_null(), "cannot name uid {uid}");
            let user = std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
            let group = std::ffi::CStr::from_ptr((*gr).gr_name)
                .to_string_lossy()
                .into_owned();
            (None, user, group)
        }
    }
}

/// Hand `path` (recursively) to Dovecot's user.
fn chown_tree(path: &Path, owner: Option<(u32, u32)>) {
    let Some((uid, gid)) = owner else { return };
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read_dir") {
            chown_tree(&entry.expect("dir entry").path(), owner);
        }
    }
}

impl Dovecot {
    /// Write the config and start the server; ready when its IMAP port accepts.
    pub fn start(options: Options) -> Dovecot {
        let bin = dovecot_bin();
        let _ = doveadm_bin();
        let (run_as, user, group) = run_identity();
        let (uid, gid) = run_as.unwrap_or_else(|| {
            // SAFETY: getters with no arguments.
            unsafe { (libc::geteuid(), libc::getegid()) }
        });
        let dir = tempfile::Builder::new()
            .prefix("fd-dovecot")
            .tempdir()
            .expect("temp dir");
        let d = dir.path().to_path_buf();
        for sub in ["run", "state", "log", "home"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        let mut passwd = String::new();
        for u in &options.users {
            let home = d.join("home").join(&u.name);
            std::fs::create_dir_all(home.join("Maildir")).expect("mkdir home");
            passwd.push_str(&format!(
                "{}:{{PLAIN}}{}:{uid}:{gid}::{}::\n",
                u.name,
                u.password,
                home.display()
            ));
        }
        std::fs::write(d.join("passwd"), passwd).expect("write passwd");
        let imap_port = free_port();
        let imaps_port = if options.tls.is_some() {
            free_port()
        } else {
            0
        };
        let lmtp_port = free_port();
        let instance = format!(
            "fdtest-{}",
            d.file_name().unwrap_or_default().to_string_lossy()
        );
        let ssl = match &options.tls {
            None => "ssl = no\ndisable_plaintext_auth = no\n".to_string(),
            Some(t) => {
                // Copies inside the dir Dovecot's user owns.
                let (cert, key) = (d.join("server.pem"), d.join("server.key"));
                std::fs::copy(&t.cert, &cert).expect("copy server cert");
                std::fs::copy(&t.key, &key).expect("copy server key");
                format!(
                    "ssl = required\ndisable_plaintext_auth = yes\nssl_cert = <{}\nssl_key = <{}\nssl_min_protocol = TLSv1.2\n",
                    cert.display(),
                    key.display()
                )
            }
        };
        let (mechanisms, oauth_passdb) = match &options.oauth2_introspection_url {
            None => ("plain login", String::new()),
            Some(url) => {
                let ext = d.join("dovecot-oauth2.conf.ext");
                std::fs::write(
                    &ext,
                    format!(
                        "introspection_mode = post\nintrospection_url = {url}\nforce_introspection = yes\n\
                         username_attribute = username\nactive_attribute = active\nactive_value = true\n\
                         timeout_msecs = 10000\n"
                    ),
                )
                .expect("write oauth2 ext");
                (
                    "plain login xoauth2 oauthbearer",
                    format!(
                        "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}\n}}\n",
                        ext.display()
                    ),
                )
            }
        };
        let conf = d.join("dovecot.conf");
        let text = format!(
            r#"# generated by the frontdesk IMAP tests; loopback only
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = {instance}
log_path = {d}/log/dovecot.log
info_log_path = {d}/log/dovecot.log
{ssl}auth_mechanisms = {mechanisms}
auth_failure_delay = 0
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_fsync = optimized
mail_max_userip_connections = 64
postmaster_address = postmaster@test.example
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
{oauth_passdb}userdb {{
  driver = passwd-file
  args = username_format=%u {d}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
protocol lmtp {{
  lmtp_save_to_detail_mailbox = no
}}
"#,
            d = d.display()
        );
        std::fs::write(&conf, text).expect("write dovecot.conf");
        // Dovecot's user must reach the dir (tempdir is 0700).
        chown_tree(&d, run_as);
        let _ = bin;
        let mut dovecot = Dovecot {
            dir,
            conf,
            imap_port,
            imaps_port,
            lmtp_port,
            users: options.users,
            child: None,
            run_as,
        };
        dovecot.resume();
        dovecot
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        if let Some((uid, gid)) = self.run_as {
            // std drops supplementary groups when root sets a uid.
            cmd.uid(uid).gid(gid);
        }
        cmd.env_remove("NOTIFY_SOCKET");
        cmd
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        let mut s =
            std::fs::read_to_string(self.dir.path().join("log/dovecot.log")).unwrap_or_default();
        s.push_str(
            &std::fs::read_to_string(self.dir.path().join("log/stdout.log")).unwrap_or_default(),
        );
        s
    }

    /// Start (again) on the same config, ports and mail; wait until IMAP accepts.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "Dovecot already runs");
        let out = std::fs::File::create(self.dir.path().join("log/stdout.log")).expect("log");
        let child = self
            .command(&dovecot_bin())
            .arg("-F")
            // Its own process group, so stopping it can end every session too.
            .process_group(0)
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dovecot: {e}. {INSTALL_HINT}"));
        self.child = Some(child);
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                panic!("dovecot exited at start with {status}:\n{}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", self.imap_port)).is_ok()
                && TcpStream::connect(("127.0.0.1", self.lmtp_port)).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen within {START_DEADLINE:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop the server: SIGTERM to its whole process group (master, login, auth and every
    /// IMAP session process; the master alone would let running sessions finish), then
    /// wait until it is gone and its port is closed.
    pub fn stop(&mut self) {
        self.stop_inner();
        // The master is gone; wait until its listeners are too, so a restart can bind.
        harness::wait_until("dovecot's IMAP port to close", START_DEADLINE, || {
            TcpStream::connect(("127.0.0.1", self.imap_port)).is_err()
        });
    }

    fn stop_inner(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = -(child.id() as i32);
        // SAFETY: kill(2) on the process group of our own child.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if child.try_wait().expect("try_wait").is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Anything of it still there (a session process slow to exit) goes too.
        // SAFETY: as above; ESRCH when the group is already empty is fine.
        unsafe { libc::kill(group, libc::SIGKILL) };
    }

    /// `doveadm -c CONF ARGS` as Dovecot's user; stdout. Panics on failure.
    pub fn doveadm(&self, args: &[&str]) -> String {
        self.doveadm_input(args, None)
    }

    /// [`Dovecot::doveadm`] with `input` on stdin.
    pub fn doveadm_input(&self, args: &[&str], input: Option<&[u8]>) -> String {
        let mut cmd = self.command(&doveadm_bin());
        cmd.arg("-c").arg(&self.conf).args(args);
        let out = harness::run(cmd, input, harness::COMMAND_DEADLINE);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "doveadm {args:?} failed ({}):\n{}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        stdout
    }

    /// Save one message into `mailbox` of `user` (creating nothing).
    pub fn save(&self, user: &str, mailbox: &str, raw: &[u8]) {
        self.doveadm_input(&["save", "-u", user, "-m", mailbox], Some(raw));
    }

    /// UIDs matching an IMAP SEARCH `query` (e.g. `ALL`, `SEEN`, `UNSEEN`).
    pub fn search(&self, user: &str, mailbox: &str, query: &[&str]) -> Vec<u32> {
        let mut args = vec!["search", "-u", user, "mailbox", mailbox];
        args.extend_from_slice(query);
        let mut uids: Vec<u32> = self
            .doveadm(&args)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
            .collect();
        uids.sort_unstable();
        uids
    }

    /// UIDs in `mailbox` whose Message-ID header contains `id`.
    pub fn find_message_id(&self, user: &str, mailbox: &str, id: &str) -> Vec<u32> {
        self.search(user, mailbox, &["HEADER", "Message-ID", id])
    }

    /// `doveadm mailbox status FIELD MAILBOX` as a number.
    pub fn status(&self, user: &str, mailbox: &str, field: &str) -> u64 {
        let out = self.doveadm(&[
            "-f", "flow", "mailbox", "status", "-u", user, field, mailbox,
        ]);
        out.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {out:?}"))
    }

    /// A user's Maildir folder on disk (`INBOX` or a Maildir++ subfolder), created.
    pub fn maildir(&self, user: &str, mailbox: &str) -> PathBuf {
        let root = self.dir.path().join("home").join(user).join("Maildir");
        let dir = if mailbox.eq_ignore_ascii_case("INBOX") {
            root
        } else {
            root.join(format!(".{mailbox}"))
        };
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir maildir");
        }
        if !mailbox.eq_ignore_ascii_case("INBOX") {
            let marker = dir.join("maildirfolder");
            if !marker.exists() {
                std::fs::write(&marker, b"").expect("maildirfolder");
            }
        }
        chown_tree(&self.dir.path().join("home").join(user), self.run_as);
        dir
    }

    /// Put messages straight into a Maildir (fast for thousands), unseen, in order, each
    /// with `mtime` as its INTERNALDATE when given. Safe while Dovecot runs: every file is
    /// written in tmp/ and renamed into new/.
    pub fn fill_maildir(
        &self,
        user: &str,
        mailbox: &str,
        messages: &[Vec<u8>],
        mtime: Option<std::time::SystemTime>,
    ) {
        let dir = self.maildir(user, mailbox);
        let base = 1_600_000_000u64;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let mut staged = Vec::with_capacity(messages.len());
        for (i, raw) in messages.iter().enumerate() {
            // Dovecot assigns UIDs to new files in the order of the time in their names.
            let name = format!("{}.M{}P{stamp}.fdtest", base + i as u64, i);
            let tmp = dir.join("tmp").join(&name);
            let mut f = std::fs::File::create(&tmp).expect("create message file");
            f.write_all(raw).expect("write message");
            if let Some(t) = mtime {
                f.set_modified(t).expect("set mtime");
            }
            drop(f);
            chown_tree(&tmp, self.run_as);
            staged.push((tmp, dir.join("new").join(&name)));
        }
        for (from, to) in staged {
            std::fs::rename(from, to).expect("rename into new/");
        }
    }

    /// Deliver one message through Dovecot's LMTP to `user`.
    pub fn lmtp_deliver(&self, user: &str, raw: &[u8]) {
        let stream = TcpStream::connect(("127.0.0.1", self.lmtp_port)).expect("connect LMTP");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut w = stream.try_clone().unwrap();
        let mut r = BufReader::new(stream);
        let expect = |r: &mut BufReader<TcpStream>, code: &str| loop {
            let mut line = String::new();
            r.read_line(&mut line).expect("LMTP reply");
            assert!(
                line.starts_with(code),
                "LMTP: expected {code}, got {line:?}"
            );
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        };
        expect(&mut r, "220");
        w.write_all(b"LHLO test.example\r\n").unwrap();
        expect(&mut r, "250");
        w.write_all(b"MAIL FROM:<sender@test.example>\r\n").unwrap();
        expect(&mut r, "250");
        w.write_all(format!("RCPT TO:<{user}>\r\n").as_bytes())
            .unwrap();
        expect(&mut r, "250");
        w.write_all(b"DATA\r\n").unwrap();
        expect(&mut r, "354");
        let mut data = Vec::with_capacity(raw.len() + 64);
        for line in raw.split_inclusive(|b| *b == b'\n') {
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            if body.first() == Some(&b'.') {
                data.push(b'.');
            }
            data.extend_from_slice(body);
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        w.write_all(&data).unwrap();
        expect(&mut r, "250");
        w.write_all(b"QUIT\r\n").unwrap();
    }

    /// Write a secret file (a password) for frontdesk in this instance's dir.
    pub fn secret_file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("{content}\n")).expect("write secret");
        path
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Only the tail: a client in a loop can make this log huge.
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(80)..].join("\n");
            eprintln!(
                "---- dovecot log ({}, last 80 of {} lines) ----\n{tail}",
                self.dir.path().display(),
                lines.len()
            );
        }
        self.stop_inner();
    }
}
