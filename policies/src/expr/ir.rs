//! The compiled form: a flat node array (`Vec<Node>`, children by index) plus constant
//! regexes. Immutable after compile, `Send + Sync`. Every member or method call resolves to
//! a [`B`] builtin at compile time; nothing is looked up by name at runtime.

use super::builtins::time::{DateTime, Guid, TimeSpan};
use super::context::{Entity, Field};
use super::types::{EnumKind, Type};
use super::value::{Handle, Value};

pub type Id = u32;
pub type Slot = u16;
/// An interpolation part: value node, optional format, alignment.
pub type InterpHole = (Id, Option<Box<str>>, i32);

/// A compile-time constant.
#[derive(Debug, Clone)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Char(char),
    Str(Box<str>),
    DateTime(DateTime),
    TimeSpan(TimeSpan),
    Guid(Guid),
    Handle(Handle),
    Enum(EnumKind, i32),
}

impl Const {
    pub fn to_value(&self) -> Value<'_> {
        match self {
            Const::Null => Value::Null,
            Const::Bool(b) => Value::Bool(*b),
            Const::Int(i) => Value::Int(*i),
            Const::Long(i) => Value::Long(*i),
            Const::Double(d) => Value::Double(*d),
            Const::Char(c) => Value::Char(*c),
            Const::Str(s) => Value::Str(s),
            Const::DateTime(d) => Value::DateTime(*d),
            Const::TimeSpan(t) => Value::TimeSpan(*t),
            Const::Guid(g) => Value::Guid(*g),
            Const::Handle(h) => Value::Handle(*h),
            Const::Enum(k, v) => Value::Enum(*k, *v),
        }
    }
}

/// Numeric kind of an arithmetic operation (after promotion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Num {
    Int,
    Long,
    Double,
}

/// Typed binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add(Num),
    Sub(Num),
    Mul(Num),
    Div(Num),
    Rem(Num),
    BitAnd(Num),
    BitOr(Num),
    BitXor(Num),
    BoolAnd,
    BoolOr,
    BoolXor,
    /// String concatenation; operands are already strings.
    Concat,
    DtAddTs,
    DtSubTs,
    DtSubDt,
    TsAdd,
    TsSub,
    /// `==` / `!=` with value semantics (`negate` for `!=`).
    Eq(bool),
    /// `<`, `<=`, `>`, `>=` on numbers, chars, DateTime, TimeSpan (lifted: null → false).
    Lt,
    Le,
    Gt,
    Ge,
}

/// Conversions and casts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    ToLong,
    ToDouble,
    /// Explicit numeric → int (wraps / truncates like unchecked C#).
    ToInt,
    ToChar,
    /// Any value → its `ToString()` (null → "").
    ToStr,
    /// Runtime-checked cast of an `object` (or supertype) to a type.
    Unbox(Type),
    /// Newtonsoft explicit conversion of a JToken to a scalar type.
    FromJson(Type),
    /// Implicit conversion of a scalar to a JToken (`JValue`).
    ToJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinqOp {
    Select,
    Where,
    Any,
    All,
    First,
    FirstOrDefault,
    Last,
    LastOrDefault,
    Single,
    SingleOrDefault,
    Count,
    Contains,
    ToArray,
    Skip,
    Take,
    OrderBy,
    OrderByDescending,
    Distinct,
    Sum,
    Min,
    Max,
    Average,
    Reverse,
    ElementAt,
    ElementAtOrDefault,
    Concat,
}

/// Context object model members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C {
    Entity(Entity),
    RequestId,
    Timestamp,
    Elapsed,
    Tracing,
    Method,
    IpAddress,
    Certificate,
    MsgHeaders,
    MsgBody,
    StatusCode,
    StatusReason,
    UrlScheme,
    UrlHost,
    UrlPort,
    UrlPath,
    UrlQueryString,
    UrlQuery,
    UrlToString,
    HeadersIndex,
    HeadersGet,
    HeadersContains,
    HeadersCount,
    HeadersKeys,
    /// `Body.As<T>(preserveContent)`; the type is Str, Bytes, JObject, JArray or JToken.
    BodyAs(Type),
    MpIndex,
    MpGet,
    MpContains,
    VarIndex,
    VarContains,
    /// `Variables.GetValueOrDefault<T>`: checked conversion to `T` (None = object).
    VarGet(Option<Type>),
    Field(Field),
    CertSubject,
    CertIssuer,
    CertThumbprint,
    CertSerial,
    CertNotBefore,
    CertNotAfter,
    /// `Certificate.Verify()`.
    CertVerify,
    MapIndex,
    MapGet,
    MapContains,
    MapCount,
    MapKeys,
    /// Members of entities that are always null here (e.g. `context.User.Email`).
    Never,
}

/// String, char and object members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S {
    Length,
    CharAt,
    Split,
    Substring,
    StartsWith,
    EndsWith,
    Contains,
    IndexOf,
    LastIndexOf,
    ToUpper,
    ToLower,
    Trim,
    TrimStart,
    TrimEnd,
    Replace,
    PadLeft,
    PadRight,
    Equals,
    Insert,
    Remove,
    ToCharArray,
    IsNullOrEmpty,
    IsNullOrWhiteSpace,
    Format,
    Join,
    Concat,
    Compare,
    StaticEquals,
    /// `x.ToString()` on any value.
    ToStr,
    /// `x.ToString(format)` on numbers, DateTime, TimeSpan, Guid.
    ToStrFmt,
    ObjEquals,
    CharIsDigit,
    CharIsLetter,
    CharIsLetterOrDigit,
    CharIsWhiteSpace,
    CharIsUpper,
    CharIsLower,
    CharToUpper,
    CharToLower,
}

/// Conversions, encodings, math, parsing and small collection members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V {
    ToBase64,
    FromBase64,
    ConvToInt,
    ConvToLong,
    ConvToDouble,
    ConvToBool,
    ConvToString,
    GetBytes,
    GetString,
    EscapeDataString,
    UnescapeDataString,
    UrlEncode,
    UrlDecode,
    Min(Num),
    Max(Num),
    Abs(Num),
    Floor,
    Ceiling,
    Round,
    Truncate,
    Pow,
    Sqrt,
    Log,
    Log10,
    Exp,
    Sign(Num),
    /// `T.Parse(s)` for int, long, double, bool, Guid, DateTime, TimeSpan.
    Parse(Type),
    NewGuid,
    SeqLength,
    SeqIndex,
    BytesLength,
    HasValue,
    NullableValue,
    /// `x.GetValueOrDefault()` on a nullable value type.
    NullableOrDefault(Type),
}

/// DateTime and TimeSpan members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T {
    UtcNow,
    Now,
    Today,
    NewDateTime,
    AddTicks(i64),
    AddMonths,
    AddYears,
    Add,
    Subtract,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    DayOfWeek,
    DayOfYear,
    Date,
    TimeOfDay,
    Ticks,
    Kind,
    ToUniversalTime,
    ToLocalTime,
    ToUnixSeconds,
    ToUnixMs,
    FromUnixSeconds,
    FromUnixMs,
    CompareTo,
    NewTimeSpan,
    /// `TimeSpan.FromX(value)`, ticks per unit.
    TsFrom(i64),
    /// Component (`Days`, `Hours`, ...): ticks per unit and modulo.
    TsPart(i64, i64),
    /// `TotalX`, ticks per unit.
    TsTotal(i64),
    TsTicks,
    TsDuration,
    TsNegate,
    DtoUtcDateTime,
}

/// Newtonsoft JSON members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum J {
    /// `JObject.Parse` (JObject), `JArray.Parse` (JArray), `JToken.Parse` (JToken).
    Parse(Type),
    Index,
    /// `Value<T>(key)` or `Value<T>()`.
    ValueOf(Type),
    ToStr,
    SelectToken,
    SelectTokens,
    Property,
    Remove,
    Add,
    ContainsKey,
    HasValues,
    Count,
    TokenType,
    Properties,
    Children,
    PropName,
    PropValue,
    NewObject,
    NewArray,
    NewProperty,
    NewValue,
    FromObject,
    Serialize,
    Deserialize,
    DeepClone,
    /// `ToObject<T>()`.
    ToObject(Type),
}

/// Regular expressions. The `Option<u16>` is a precompiled pattern (literal pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum R {
    IsMatch(Option<u16>),
    Match(Option<u16>),
    Matches(Option<u16>),
    Replace(Option<u16>),
    Split(Option<u16>),
    Escape,
    Value,
    Success,
    Index,
    Length,
    Groups,
    GroupAt,
    NextMatch,
}

/// JWT and Basic credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum W {
    AsJwt,
    AsBasic,
    Algorithm,
    Audiences,
    Claims,
    ExpirationTime,
    Id,
    Issuer,
    IssuedAt,
    NotBefore,
    Subject,
    Type,
    BasicUser,
    BasicPassword,
}

/// A builtin member or method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum B {
    Ctx(C),
    Str(S),
    Conv(V),
    Time(T),
    Json(J),
    Re(R),
    Jwt(W),
}

/// What `is` / `as` test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestMode {
    Is,
    As,
    IsBind(Slot),
    IsNull,
    IsNotNull,
}

#[derive(Debug, Clone)]
pub enum Node {
    Const(Const),
    Local(Slot),
    Assign(Slot, Id),
    /// Builtin call; args are `[receiver, args...]` for instance members. `null_check`:
    /// a null receiver is a NullReferenceException.
    Call {
        f: B,
        args: Box<[Id]>,
        null_check: bool,
    },
    Bin(Op, Id, Id),
    Neg(Num, Id),
    Not(Id),
    BitNot(Num, Id),
    And(Id, Id),
    Or(Id, Id),
    Coalesce(Id, Id),
    Cond(Id, Id, Id),
    /// `target?.body`: if target is null → null, else slot = target and evaluate body.
    CondAccess {
        target: Id,
        slot: Slot,
        body: Id,
    },
    Conv(Conv, Id),
    Test {
        ty: Type,
        mode: TestMode,
        node: Id,
    },
    Linq {
        op: LinqOp,
        src: Id,
        slot: Slot,
        body: Option<Id>,
        arg: Option<Id>,
        num: Option<Num>,
    },
    NewList(Box<[Id]>),
    /// Interpolated string: parts with optional format and alignment.
    Interp(Box<[InterpHole]>),
    /// `T.TryParse(s, out x)` style: slot receives the value (or `default`), returns bool.
    TryOut {
        f: B,
        args: Box<[Id]>,
        slot: Slot,
        default: Const,
    },
    /// `target[key] = value` on a JToken.
    IndexSet {
        target: Id,
        key: Id,
        value: Id,
    },
    /// `new { a = 1 }` → a JObject.
    Anon(Box<[(Box<str>, Id)]>),
    Block(Box<[Id]>),
    If(Id, Id, Option<Id>),
    Return(Id),
    Foreach {
        slot: Slot,
        src: Id,
        body: Id,
    },
    /// Bounded `for`: init, cond, step, body.
    For {
        init: Option<Id>,
        cond: Id,
        step: Option<Id>,
        body: Id,
    },
    Break,
    Continue,
    Throw(Option<Id>),
    /// Expression statement (value discarded).
    Discard(Id),
    Nop,
}
