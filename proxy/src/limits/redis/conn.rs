//! One blocking connection to Redis with bounded timeouts: connect (every address the
//! host resolves to, in turn), `AUTH` and `SELECT` as the URL says, the rate-limit script
//! loaded once (`SCRIPT LOAD`) and run with `EVALSHA`, loaded again on `NOSCRIPT` (a
//! restarted or flushed server). Used only by the Redis thread, never by a shard.

use std::io::{self, BufReader, BufWriter, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use tollgate_core::config::RedisUrl;

use super::resp::{self, Reply};

/// The script every call runs (see `script.lua`).
pub const SCRIPT: &str = include_str!("script.lua");

pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
    sha: Vec<u8>,
    buf: Vec<u8>,
}

/// Why a call failed: the connection is unusable afterwards either way.
pub fn error(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}

impl Conn {
    /// Connects within `timeout` per address, every read and write then bounded by it.
    pub fn open(url: &RedisUrl, timeout: Duration) -> io::Result<Conn> {
        let host = url.host.trim_start_matches('[').trim_end_matches(']');
        let mut last = error(format!("`{}` resolves to no address", url.host));
        for addr in (host, url.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(timeout))?;
                    s.set_write_timeout(Some(timeout))?;
                    s.set_nodelay(true)?;
                    let mut c = Conn {
                        reader: BufReader::new(s.try_clone()?),
                        writer: BufWriter::new(s),
                        sha: Vec::new(),
                        buf: Vec::new(),
                    };
                    c.hello(url)?;
                    return Ok(c);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn hello(&mut self, url: &RedisUrl) -> io::Result<()> {
        if let Some(password) = &url.password {
            let reply = match &url.user {
                Some(user) => self.call(&[b"AUTH", user.as_bytes(), password.as_bytes()])?,
                None => self.call(&[b"AUTH", password.as_bytes()])?,
            };
            ok(reply, "AUTH")?;
        }
        if url.db != 0 {
            let db = url.db.to_string();
            ok(self.call(&[b"SELECT", db.as_bytes()])?, "SELECT")?;
        }
        self.load()
    }

    /// `SCRIPT LOAD`: the server keeps the script; calls name it by its SHA-1.
    fn load(&mut self) -> io::Result<()> {
        match self.call(&[b"SCRIPT", b"LOAD", SCRIPT.as_bytes()])? {
            Reply::Bulk(Some(sha)) => {
                self.sha = sha;
                Ok(())
            }
            other => Err(error(format!("SCRIPT LOAD answered {other:?}"))),
        }
    }

    /// Runs the script with `keys` and `args`; on `NOSCRIPT` loads it again and retries
    /// once.
    pub fn eval(&mut self, keys: &[&[u8]], args: &[&[u8]]) -> io::Result<Reply> {
        for attempt in 0..2 {
            let n = keys.len().to_string();
            let sha = self.sha.clone();
            let mut cmd: Vec<&[u8]> = Vec::with_capacity(3 + keys.len() + args.len());
            cmd.push(b"EVALSHA");
            cmd.push(&sha);
            cmd.push(n.as_bytes());
            cmd.extend_from_slice(keys);
            cmd.extend_from_slice(args);
            let reply = self.call(&cmd)?;
            match reply {
                Reply::Error(e) if e.starts_with("NOSCRIPT") && attempt == 0 => self.load()?,
                Reply::Error(e) => return Err(error(format!("the script failed: {e}"))),
                r => return Ok(r),
            }
        }
        Err(error("the script could not be loaded"))
    }

    fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        self.buf.clear();
        resp::encode(&mut self.buf, args);
        self.writer.write_all(&self.buf)?;
        self.writer.flush()?;
        resp::read(&mut self.reader)
    }
}

fn ok(reply: Reply, what: &str) -> io::Result<()> {
    match reply {
        Reply::Simple(_) => Ok(()),
        Reply::Error(e) => Err(error(format!("{what}: {e}"))),
        other => Err(error(format!("{what} answered {other:?}"))),
    }
}
