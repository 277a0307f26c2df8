//! A minimal leveled logger to stderr: `2026-11-29T23:59:00.123Z INFO shard=0 message`.
//!
//! Logging is for lifecycle events (start, reload, shutdown, backend failures), never
//! per successful request; the access log is a separate concern. The level is set once
//! at start (`logging.level` or `TOLLGATE_LOG`) and read with a relaxed atomic load.

use std::fmt::Arguments;
use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};

use tollgate_policies::expr::builtins::time::{civil_from_days, TICKS_PER_DAY, UNIX_EPOCH_TICKS};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            "debug" | "trace" => Some(Level::Debug),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }
}

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

pub fn write(level: Level, args: Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{} {} {}", Timestamp(now), level.name(), args);
}

/// RFC 3339 UTC timestamp with milliseconds, without a date library.
struct Timestamp(std::time::Duration);

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.as_secs();
        let (days, rem) = (secs / 86_400, secs % 86_400);
        // The calendar of the expressions' DateTime, whose days count from 0001-01-01.
        let (y, m, d) = civil_from_days(days as i64 + UNIX_EPOCH_TICKS / TICKS_PER_DAY);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.0.subsec_millis()
        )
    }
}

#[macro_export]
macro_rules! error { ($($t:tt)*) => { $crate::log::write($crate::log::Level::Error, format_args!($($t)*)) } }
#[macro_export]
macro_rules! warn { ($($t:tt)*) => { $crate::log::write($crate::log::Level::Warn, format_args!($($t)*)) } }
#[macro_export]
macro_rules! info { ($($t:tt)*) => { $crate::log::write($crate::log::Level::Info, format_args!($($t)*)) } }
#[macro_export]
macro_rules! debug { ($($t:tt)*) => { if $crate::log::enabled($crate::log::Level::Debug) { $crate::log::write($crate::log::Level::Debug, format_args!($($t)*)) } } }

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_is_rfc3339() {
        let t = super::Timestamp(std::time::Duration::from_millis(1_795_996_740_123));
        assert_eq!(t.to_string(), "2026-11-29T23:59:00.123Z");
    }
}
