//! `DateTime`, `TimeSpan` and `Guid`: representation, calendar arithmetic, .NET standard and
//! custom format strings (invariant culture) and parsing.
// Formatting helpers report an invalid format string as `Err(())`; callers map it to
// .NET's FormatException message.
#![allow(clippy::result_unit_err)]

use super::ign;
use std::fmt::Write;

pub const TICKS_PER_MS: i64 = 10_000;
pub const TICKS_PER_SEC: i64 = 10_000_000;
pub const TICKS_PER_MIN: i64 = 60 * TICKS_PER_SEC;
pub const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MIN;
pub const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;
/// Ticks of 9999-12-31T23:59:59.9999999.
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999;
/// Ticks of 1970-01-01T00:00:00.
pub const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// `DateTimeKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateKind {
    Unspecified,
    Utc,
    /// Local time; the gateway's local zone is UTC.
    Local,
}

/// A .NET `DateTime`: 100 ns ticks since 0001-01-01T00:00:00 and a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub ticks: i64,
    pub kind: DateKind,
}

/// A .NET `TimeSpan` in 100 ns ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeSpan {
    pub ticks: i64,
}

/// A GUID, stored in its display order (`xxxxxxxx-xxxx-...` reads the bytes in order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guid(pub [u8; 16]);

impl DateTime {
    pub fn new(ticks: i64, kind: DateKind) -> Option<DateTime> {
        (0..=MAX_TICKS)
            .contains(&ticks)
            .then_some(DateTime { ticks, kind })
    }

    pub fn from_unix_seconds(secs: i64, kind: DateKind) -> Option<DateTime> {
        let t = secs
            .checked_mul(TICKS_PER_SEC)?
            .checked_add(UNIX_EPOCH_TICKS)?;
        DateTime::new(t, kind)
    }

    pub fn unix_seconds(self) -> i64 {
        (self.ticks - UNIX_EPOCH_TICKS).div_euclid(TICKS_PER_SEC)
    }

    pub fn from_parts(
        y: i64,
        mo: i64,
        d: i64,
        h: i64,
        mi: i64,
        s: i64,
        ms: i64,
    ) -> Option<DateTime> {
        if !(1..=9999).contains(&y) || !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo)
        {
            return None;
        }
        if !(0..24).contains(&h)
            || !(0..60).contains(&mi)
            || !(0..60).contains(&s)
            || !(0..1000).contains(&ms)
        {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        let t = days * TICKS_PER_DAY
            + h * TICKS_PER_HOUR
            + mi * TICKS_PER_MIN
            + s * TICKS_PER_SEC
            + ms * TICKS_PER_MS;
        DateTime::new(t, DateKind::Unspecified)
    }

    /// (year, month, day)
    pub fn ymd(self) -> (i64, i64, i64) {
        civil_from_days(self.ticks.div_euclid(TICKS_PER_DAY))
    }

    pub fn time_of_day(self) -> i64 {
        self.ticks.rem_euclid(TICKS_PER_DAY)
    }

    pub fn day_of_week(self) -> i64 {
        // 0001-01-01 was a Monday.
        (self.ticks.div_euclid(TICKS_PER_DAY) + 1).rem_euclid(7)
    }

    pub fn day_of_year(self) -> i64 {
        let (y, _, _) = self.ymd();
        self.ticks.div_euclid(TICKS_PER_DAY) - days_from_civil(y, 1, 1) + 1
    }

    pub fn add_ticks(self, t: i64) -> Option<DateTime> {
        DateTime::new(self.ticks.checked_add(t)?, self.kind)
    }

    pub fn add_months(self, months: i64) -> Option<DateTime> {
        let (y, m, d) = self.ymd();
        let total = y.checked_mul(12)?.checked_add(m - 1)?.checked_add(months)?;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
        if !(1..=9999).contains(&ny) {
            return None;
        }
        let nd = d.min(days_in_month(ny, nm));
        DateTime::new(
            days_from_civil(ny, nm, nd) * TICKS_PER_DAY + self.time_of_day(),
            self.kind,
        )
    }
}

impl Guid {
    pub fn from_random(a: u64, b: u64) -> Guid {
        let mut g = [0u8; 16];
        g[..8].copy_from_slice(&a.to_be_bytes());
        g[8..].copy_from_slice(&b.to_be_bytes());
        g[6] = (g[6] & 0x0f) | 0x40;
        g[8] = (g[8] & 0x3f) | 0x80;
        Guid(g)
    }

    pub fn parse(s: &str) -> Option<Guid> {
        let s = s.trim();
        let inner = if (s.starts_with('{') && s.ends_with('}'))
            || (s.starts_with('(') && s.ends_with(')'))
        {
            s.get(1..s.len() - 1)?
        } else {
            s
        };
        let hex: &[u8] = inner.as_bytes();
        let digits: Vec<u8> = if hex.len() == 36 {
            for (i, c) in hex.iter().enumerate() {
                if matches!(i, 8 | 13 | 18 | 23) != (*c == b'-') {
                    return None;
                }
            }
            hex.iter().copied().filter(|c| *c != b'-').collect()
        } else if hex.len() == 32 && inner.len() == s.len() {
            hex.to_vec()
        } else {
            return None;
        };
        let mut g = [0u8; 16];
        for i in 0..16 {
            let hi = (digits[2 * i] as char).to_digit(16)?;
            let lo = (digits[2 * i + 1] as char).to_digit(16)?;
            g[i] = (hi * 16 + lo) as u8;
        }
        Some(Guid(g))
    }

    pub fn format<W: Write>(&self, fmt: &str, out: &mut W) -> Result<(), ()> {
        let (open, close, dashes) = match fmt {
            "" | "D" | "d" => ("", "", true),
            "N" | "n" => ("", "", false),
            "B" | "b" => ("{", "}", true),
            "P" | "p" => ("(", ")", true),
            _ => return Err(()),
        };
        let _ = out.write_str(open);
        for (i, b) in self.0.iter().enumerate() {
            if dashes && matches!(i, 4 | 6 | 8 | 10) {
                let _ = out.write_char('-');
            }
            let _ = write!(out, "{b:02x}");
        }
        let _ = out.write_str(close);
        Ok(())
    }
}

pub fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 0001-01-01 (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + 719_162
}

pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days - 719_162 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// English day names, Sunday first (.NET's invariant culture).
pub(crate) const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
/// English month names (.NET's invariant culture).
pub(crate) const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn standard_pattern(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "MM/dd/yyyy",
        'D' => "dddd, dd MMMM yyyy",
        'f' => "dddd, dd MMMM yyyy HH:mm",
        'F' | 'U' => "dddd, dd MMMM yyyy HH:mm:ss",
        'g' => "MM/dd/yyyy HH:mm",
        'G' => "MM/dd/yyyy HH:mm:ss",
        'm' | 'M' => "MMMM dd",
        'o' | 'O' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        'r' | 'R' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "HH:mm",
        'T' => "HH:mm:ss",
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        'y' | 'Y' => "yyyy MMMM",
        _ => return None,
    })
}

/// Formats a DateTime with a .NET standard or custom format (invariant culture).
pub fn format_datetime<W: Write>(dt: DateTime, fmt: &str, out: &mut W) -> Result<(), ()> {
    let mut chars = fmt.chars();
    let pattern = match (chars.next(), chars.next()) {
        (None, _) => "MM/dd/yyyy HH:mm:ss",
        (Some(c), None) => standard_pattern(c).ok_or(())?,
        _ => fmt,
    };
    format_custom_dt(dt, pattern, out)
}

fn run_len(b: &[char], i: usize) -> usize {
    let c = b[i];
    b[i..].iter().take_while(|&&x| x == c).count()
}

fn push_literal<W: Write>(p: &[char], i: &mut usize, out: &mut W) -> Result<bool, ()> {
    match p[*i] {
        q @ ('\'' | '"') => {
            *i += 1;
            while *i < p.len() && p[*i] != q {
                let _ = out.write_char(p[*i]);
                *i += 1;
            }
            if *i >= p.len() {
                return Err(());
            }
            *i += 1;
            Ok(true)
        }
        '\\' => {
            let c = *p.get(*i + 1).ok_or(())?;
            let _ = out.write_char(c);
            *i += 2;
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn format_custom_dt<W: Write>(dt: DateTime, pattern: &str, out: &mut W) -> Result<(), ()> {
    let p: Vec<char> = pattern.chars().collect();
    let (y, mo, d) = dt.ymd();
    let tod = dt.time_of_day();
    let (h, mi, s) = (
        tod / TICKS_PER_HOUR,
        (tod / TICKS_PER_MIN) % 60,
        (tod / TICKS_PER_SEC) % 60,
    );
    let frac = tod % TICKS_PER_SEC;
    let mut i = 0;
    while i < p.len() {
        if push_literal(&p, &mut i, out)? {
            continue;
        }
        let c = p[i];
        let n = run_len(&p, i);
        match c {
            'y' => {
                let v = if n <= 2 { y % 100 } else { y };
                let _ = write!(out, "{v:0w$}", w = n.max(1));
            }
            'M' => match n {
                1 => ign(write!(out, "{mo}")),
                2 => ign(write!(out, "{mo:02}")),
                3 => ign(out.write_str(&MONTH_NAMES[(mo - 1) as usize][..3])),
                _ => ign(out.write_str(MONTH_NAMES[(mo - 1) as usize])),
            },
            'd' => match n {
                1 => ign(write!(out, "{d}")),
                2 => ign(write!(out, "{d:02}")),
                3 => ign(out.write_str(&DAY_NAMES[dt.day_of_week() as usize][..3])),
                _ => ign(out.write_str(DAY_NAMES[dt.day_of_week() as usize])),
            },
            'H' => ign(write!(out, "{h:0w$}", w = n.min(2))),
            'h' => {
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                let _ = write!(out, "{h12:0w$}", w = n.min(2));
            }
            'm' => ign(write!(out, "{mi:0w$}", w = n.min(2))),
            's' => ign(write!(out, "{s:0w$}", w = n.min(2))),
            't' => {
                let ampm = if h < 12 { "AM" } else { "PM" };
                let _ = out.write_str(if n == 1 { &ampm[..1] } else { ampm });
            }
            'f' | 'F' => {
                if n > 7 {
                    return Err(());
                }
                let digits = frac / 10i64.pow(7 - n as u32);
                let mut buf = format!("{digits:0n$}");
                if c == 'F' {
                    while buf.ends_with('0') {
                        buf.pop();
                    }
                }
                let _ = out.write_str(&buf);
            }
            'K' => {
                let _ = out.write_str(match dt.kind {
                    DateKind::Utc => "Z",
                    DateKind::Local => "+00:00",
                    DateKind::Unspecified => "",
                });
            }
            'z' => {
                let _ = out.write_str(match n {
                    1 => "+0",
                    2 => "+00",
                    _ => "+00:00",
                });
            }
            '%' => {
                i += 1;
                continue;
            }
            other => {
                for _ in 0..n {
                    let _ = out.write_char(other);
                }
            }
        }
        i += n;
    }
    Ok(())
}

/// Formats a TimeSpan: `c`/`t`/`T` (default), `g`, `G` or a custom format.
pub fn format_timespan<W: Write>(ts: TimeSpan, fmt: &str, out: &mut W) -> Result<(), ()> {
    let neg = ts.ticks < 0;
    let t = ts.ticks.unsigned_abs();
    let tpd = TICKS_PER_DAY as u64;
    let (days, rem) = (t / tpd, t % tpd);
    let (h, mi, s) = (
        rem / TICKS_PER_HOUR as u64,
        (rem / TICKS_PER_MIN as u64) % 60,
        (rem / TICKS_PER_SEC as u64) % 60,
    );
    let frac = rem % TICKS_PER_SEC as u64;
    let sign = if neg { "-" } else { "" };
    match fmt {
        "" | "c" | "t" | "T" => {
            let _ = out.write_str(sign);
            if days > 0 {
                let _ = write!(out, "{days}.");
            }
            let _ = write!(out, "{h:02}:{mi:02}:{s:02}");
            if frac > 0 {
                let _ = write!(out, ".{frac:07}");
            }
            Ok(())
        }
        "g" => {
            let _ = out.write_str(sign);
            if days > 0 {
                let _ = write!(out, "{days}:");
            }
            let _ = write!(out, "{h}:{mi:02}:{s:02}");
            if frac > 0 {
                let f = format!("{frac:07}");
                let _ = write!(out, ".{}", f.trim_end_matches('0'));
            }
            Ok(())
        }
        "G" => {
            let _ = write!(out, "{sign}{days}:{h:02}:{mi:02}:{s:02}.{frac:07}");
            Ok(())
        }
        _ => {
            let p: Vec<char> = fmt.chars().collect();
            let mut i = 0;
            while i < p.len() {
                if push_literal(&p, &mut i, out)? {
                    continue;
                }
                let n = run_len(&p, i);
                match p[i] {
                    'd' if n <= 8 => ign(write!(out, "{days:0n$}")),
                    'h' if n <= 2 => ign(write!(out, "{h:0n$}")),
                    'm' if n <= 2 => ign(write!(out, "{mi:0n$}")),
                    's' if n <= 2 => ign(write!(out, "{s:0n$}")),
                    'f' | 'F' if n <= 7 => {
                        let digits = frac / 10u64.pow(7 - n as u32);
                        let mut buf = format!("{digits:0n$}");
                        if p[i] == 'F' {
                            while buf.ends_with('0') {
                                buf.pop();
                            }
                        }
                        let _ = out.write_str(&buf);
                    }
                    '%' => {}
                    _ => return Err(()),
                }
                i += n;
            }
            Ok(())
        }
    }
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `hh:mm[:ss[.fffffff]]` into ticks.
fn parse_time(s: &str) -> Option<i64> {
    let (main, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let mut it = main.split(':');
    let h = num(it.next()?)?;
    let m = num(it.next()?)?;
    let sec = match it.next() {
        Some(x) => num(x)?,
        None => 0,
    };
    if it.next().is_some() || h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let mut t = h * TICKS_PER_HOUR + m * TICKS_PER_MIN + sec * TICKS_PER_SEC;
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: String = f.chars().take(7).collect();
        t += digits.parse::<i64>().ok()? * 10i64.pow(7 - digits.len() as u32);
    }
    Some(t)
}

fn parse_offset(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (num(h)?, num(m)?),
        None if rest.len() == 4 => (num(&rest[..2])?, num(&rest[2..])?),
        None if rest.len() <= 2 => (num(rest)?, 0),
        None => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * TICKS_PER_HOUR + m * TICKS_PER_MIN))
}

/// `DateTime.Parse` for ISO 8601, RFC 1123 and invariant `MM/dd/yyyy [HH:mm[:ss]]` forms.
/// A zone designator converts to local time (UTC here) with kind `Local`, as .NET does.
pub fn parse_datetime(s: &str) -> Option<DateTime> {
    let s = s.trim();
    if s.len() > 64 {
        return None;
    }
    if let Some(dt) = parse_rfc1123(s) {
        return Some(dt);
    }
    let (date, rest) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (y, mo, d) = if date.contains('-') {
        let mut it = date.split('-');
        let (y, mo, d) = (num(it.next()?)?, num(it.next()?)?, num(it.next()?)?);
        if it.next().is_some() {
            return None;
        }
        (y, mo, d)
    } else {
        let mut it = date.split('/');
        let (mo, d, y) = (num(it.next()?)?, num(it.next()?)?, num(it.next()?)?);
        if it.next().is_some() {
            return None;
        }
        (y, mo, d)
    };
    let base = DateTime::from_parts(y, mo, d, 0, 0, 0, 0)?;
    let Some(rest) = rest else { return Some(base) };
    let rest = rest.trim();
    let (time, pm) = if let Some(t) = rest
        .strip_suffix(" PM")
        .or_else(|| rest.strip_suffix(" pm"))
    {
        (t, Some(true))
    } else if let Some(t) = rest
        .strip_suffix(" AM")
        .or_else(|| rest.strip_suffix(" am"))
    {
        (t, Some(false))
    } else {
        (rest, None)
    };
    let (time, offset) = if let Some(t) = time.strip_suffix('Z') {
        (t, Some(0))
    } else if let Some(i) = time.rfind(['+', '-']) {
        (&time[..i], Some(parse_offset(&time[i..])?))
    } else {
        (time, None)
    };
    let mut tod = parse_time(time)?;
    if let Some(pm) = pm {
        let h = tod / TICKS_PER_HOUR;
        if !(1..=12).contains(&h) {
            return None;
        }
        tod -= if h == 12 { 12 * TICKS_PER_HOUR } else { 0 };
        if pm {
            tod += 12 * TICKS_PER_HOUR;
        }
    }
    match offset {
        None => DateTime::new(base.ticks + tod, DateKind::Unspecified),
        Some(off) => DateTime::new(base.ticks + tod - off, DateKind::Local),
    }
}

fn parse_rfc1123(s: &str) -> Option<DateTime> {
    let (_, rest) = s.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    if parts.len() != 5 || parts[4] != "GMT" {
        return None;
    }
    let d = num(parts[0])?;
    let mo = MONTH_NAMES
        .iter()
        .position(|m| m[..3].eq_ignore_ascii_case(parts[1]))? as i64
        + 1;
    let y = num(parts[2])?;
    let base = DateTime::from_parts(y, mo, d, 0, 0, 0, 0)?;
    DateTime::new(base.ticks + parse_time(parts[3])?, DateKind::Local)
}

/// `TimeSpan.Parse`: `[-]d` or `[-][d.]hh:mm[:ss[.fffffff]]`.
pub fn parse_timespan(s: &str) -> Option<TimeSpan> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let ticks = if !s.contains(':') {
        num(s)?.checked_mul(TICKS_PER_DAY)?
    } else {
        let (days, time) = match s.split_once('.') {
            Some((d, t)) if t.contains(':') && !d.contains(':') => (num(d)?, t),
            _ => (0, s),
        };
        days.checked_mul(TICKS_PER_DAY)?
            .checked_add(parse_time(time)?)?
    };
    Some(TimeSpan {
        ticks: if neg { -ticks } else { ticks },
    })
}
