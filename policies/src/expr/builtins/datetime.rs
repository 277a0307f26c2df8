//! `DateTime` / `DateTimeOffset` / `TimeSpan` members and constructors.

use super::super::builtins::time::*;
use super::super::error::{EResult, EvalError};
use super::super::eval_ops::compare;
use super::super::ir::T;
use super::super::types::EnumKind;
use super::super::value::Value;
use super::{arg, f64_arg, int_arg, Rt};

fn dt(a: &[Value<'_>], i: usize) -> EResult<DateTime> {
    match arg(a, i) {
        Value::DateTime(d) => Ok(d),
        _ => Err(EvalError::null_ref()),
    }
}

fn ts(a: &[Value<'_>], i: usize) -> EResult<TimeSpan> {
    match arg(a, i) {
        Value::TimeSpan(t) => Ok(t),
        _ => Err(EvalError::null_ref()),
    }
}

fn unrepresentable() -> EvalError {
    EvalError::new("The added or subtracted value results in an un-representable DateTime.")
}

fn ts_overflow() -> EvalError {
    EvalError::new("TimeSpan overflowed because the duration is too long.")
}

/// Double → ticks, rounded to the millisecond like .NET's `AddSeconds` etc. for doubles.
fn scaled_ticks(x: f64, per: i64) -> EResult<i64> {
    let t = x * per as f64;
    if !t.is_finite() || t.abs() > MAX_TICKS as f64 {
        return Err(EvalError::new(
            "Value to add was out of range. (Parameter 'value')",
        ));
    }
    Ok(t.round() as i64)
}

pub(crate) fn call<'a>(f: T, a: &[Value<'a>], rt: &Rt<'_, 'a>) -> EResult<Value<'a>> {
    Ok(match f {
        T::UtcNow => Value::DateTime(rt.ctx.utc_now()),
        T::Now => {
            let n = rt.ctx.utc_now();
            Value::DateTime(DateTime {
                ticks: n.ticks,
                kind: DateKind::Local,
            })
        }
        T::Today => {
            let n = rt.ctx.utc_now();
            Value::DateTime(DateTime {
                ticks: n.ticks - n.time_of_day(),
                kind: DateKind::Local,
            })
        }
        T::NewDateTime => {
            let n = |i| int_arg(a, i);
            let d = match a.len() {
                0 => Some(DateTime {
                    ticks: 0,
                    kind: DateKind::Unspecified,
                }),
                1 => DateTime::new(n(0)?, DateKind::Unspecified),
                3 => DateTime::from_parts(n(0)?, n(1)?, n(2)?, 0, 0, 0, 0),
                6 => DateTime::from_parts(n(0)?, n(1)?, n(2)?, n(3)?, n(4)?, n(5)?, 0),
                _ => DateTime::from_parts(n(0)?, n(1)?, n(2)?, n(3)?, n(4)?, n(5)?, n(6)?),
            };
            Value::DateTime(d.ok_or_else(|| {
                EvalError::new(
                    "Year, Month, and Day parameters describe an un-representable DateTime.",
                )
            })?)
        }
        T::AddTicks(per) => {
            let d = dt(a, 0)?;
            let delta = match arg(a, 1) {
                Value::Double(x) => scaled_ticks(x, per)?,
                _ => int_arg(a, 1)?
                    .checked_mul(per)
                    .ok_or_else(unrepresentable)?,
            };
            Value::DateTime(d.add_ticks(delta).ok_or_else(unrepresentable)?)
        }
        T::AddMonths | T::AddYears => {
            let d = dt(a, 0)?;
            let n = int_arg(a, 1)?;
            let months = if f == T::AddYears {
                n.checked_mul(12)
            } else {
                Some(n)
            };
            Value::DateTime(
                months
                    .and_then(|m| d.add_months(m))
                    .ok_or_else(unrepresentable)?,
            )
        }
        T::Add | T::Subtract => match (arg(a, 0), arg(a, 1)) {
            (Value::DateTime(d), Value::TimeSpan(t)) => {
                let delta = if f == T::Add {
                    Some(t.ticks)
                } else {
                    t.ticks.checked_neg()
                };
                Value::DateTime(
                    delta
                        .and_then(|x| d.add_ticks(x))
                        .ok_or_else(unrepresentable)?,
                )
            }
            (Value::DateTime(d), Value::DateTime(e)) => Value::TimeSpan(TimeSpan {
                ticks: d.ticks - e.ticks,
            }),
            (Value::TimeSpan(x), Value::TimeSpan(y)) => {
                let r = if f == T::Add {
                    x.ticks.checked_add(y.ticks)
                } else {
                    x.ticks.checked_sub(y.ticks)
                };
                Value::TimeSpan(TimeSpan {
                    ticks: r.ok_or_else(ts_overflow)?,
                })
            }
            _ => return Err(EvalError::null_ref()),
        },
        T::Year | T::Month | T::Day => {
            let (y, m, d) = dt(a, 0)?.ymd();
            Value::Int(match f {
                T::Year => y,
                T::Month => m,
                _ => d,
            } as i32)
        }
        T::Hour => Value::Int((dt(a, 0)?.time_of_day() / TICKS_PER_HOUR) as i32),
        T::Minute => Value::Int((dt(a, 0)?.time_of_day() / TICKS_PER_MIN % 60) as i32),
        T::Second => Value::Int((dt(a, 0)?.time_of_day() / TICKS_PER_SEC % 60) as i32),
        T::Millisecond => Value::Int((dt(a, 0)?.time_of_day() / TICKS_PER_MS % 1000) as i32),
        T::DayOfWeek => Value::Enum(EnumKind::DayOfWeek, dt(a, 0)?.day_of_week() as i32),
        T::DayOfYear => Value::Int(dt(a, 0)?.day_of_year() as i32),
        T::Date => {
            let d = dt(a, 0)?;
            Value::DateTime(DateTime {
                ticks: d.ticks - d.time_of_day(),
                kind: d.kind,
            })
        }
        T::TimeOfDay => Value::TimeSpan(TimeSpan {
            ticks: dt(a, 0)?.time_of_day(),
        }),
        T::Ticks => Value::Long(dt(a, 0)?.ticks),
        T::Kind => Value::Enum(
            EnumKind::DateTimeKind,
            match dt(a, 0)?.kind {
                DateKind::Unspecified => 0,
                DateKind::Utc => 1,
                DateKind::Local => 2,
            },
        ),
        T::ToUniversalTime | T::DtoUtcDateTime => Value::DateTime(DateTime {
            ticks: dt(a, 0)?.ticks,
            kind: DateKind::Utc,
        }),
        T::ToLocalTime => Value::DateTime(DateTime {
            ticks: dt(a, 0)?.ticks,
            kind: DateKind::Local,
        }),
        T::ToUnixSeconds => Value::Long(dt(a, 0)?.unix_seconds()),
        T::ToUnixMs => Value::Long((dt(a, 0)?.ticks - UNIX_EPOCH_TICKS).div_euclid(TICKS_PER_MS)),
        T::FromUnixSeconds | T::FromUnixMs => {
            let n = int_arg(a, 0)?;
            let ticks = if f == T::FromUnixSeconds {
                n.checked_mul(TICKS_PER_SEC)
            } else {
                n.checked_mul(TICKS_PER_MS)
            };
            let d = ticks
                .and_then(|t| t.checked_add(UNIX_EPOCH_TICKS))
                .and_then(|t| DateTime::new(t, DateKind::Utc))
                .ok_or_else(|| EvalError::new("Valid values are between -62135596800 and 253402300799, inclusive. (Parameter 'seconds')"))?;
            Value::DateTime(d)
        }
        T::CompareTo => {
            let o = compare(&arg(a, 0), &arg(a, 1)).unwrap_or(std::cmp::Ordering::Equal);
            Value::Int(o as i32)
        }
        T::NewTimeSpan => {
            let n = |i| int_arg(a, i);
            let ticks = match a.len() {
                0 => Some(0),
                1 => Some(n(0)?),
                3 => (|| {
                    n(0).ok()?
                        .checked_mul(TICKS_PER_HOUR)?
                        .checked_add(n(1).ok()?.checked_mul(TICKS_PER_MIN)?)?
                        .checked_add(n(2).ok()?.checked_mul(TICKS_PER_SEC)?)
                })(),
                _ => (|| {
                    let mut t = n(0).ok()?.checked_mul(TICKS_PER_DAY)?;
                    t = t.checked_add(n(1).ok()?.checked_mul(TICKS_PER_HOUR)?)?;
                    t = t.checked_add(n(2).ok()?.checked_mul(TICKS_PER_MIN)?)?;
                    t = t.checked_add(n(3).ok()?.checked_mul(TICKS_PER_SEC)?)?;
                    if a.len() > 4 {
                        t = t.checked_add(n(4).ok()?.checked_mul(TICKS_PER_MS)?)?;
                    }
                    Some(t)
                })(),
            };
            Value::TimeSpan(TimeSpan {
                ticks: ticks.ok_or_else(ts_overflow)?,
            })
        }
        T::TsFrom(per) => {
            let x = f64_arg(a, 0)?;
            let t = x * per as f64;
            if !t.is_finite() || t.abs() >= i64::MAX as f64 {
                return Err(ts_overflow());
            }
            Value::TimeSpan(TimeSpan {
                ticks: t.round() as i64,
            })
        }
        T::TsPart(per, modulo) => {
            let t = ts(a, 0)?.ticks;
            let whole = t / per;
            Value::Int(if modulo == i64::MAX {
                whole
            } else {
                whole % modulo
            } as i32)
        }
        T::TsTotal(per) => Value::Double(ts(a, 0)?.ticks as f64 / per as f64),
        T::TsTicks => Value::Long(ts(a, 0)?.ticks),
        T::TsDuration => Value::TimeSpan(TimeSpan {
            ticks: ts(a, 0)?.ticks.checked_abs().ok_or_else(ts_overflow)?,
        }),
        T::TsNegate => Value::TimeSpan(TimeSpan {
            ticks: ts(a, 0)?.ticks.checked_neg().ok_or_else(ts_overflow)?,
        }),
    })
}
