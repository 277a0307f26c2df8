//! Static types of the C# subset: scalars, sequences, Newtonsoft tokens, the APIM context
//! object model, enums and static classes used as receivers (`Math.Max`, `DateTime.UtcNow`).

use super::context::Entity;

/// Declares [`Elem`], one variant for each of these `Type` variants (same names), and the
/// conversions between the two, [`elem_type`] and [`to_elem`].
macro_rules! sequence_elements {
    ($($v:ident),* $(,)?) => {
        /// Element type of a sequence (`string[]`, `IEnumerable<JToken>`, `List<int>`, ...).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Elem {
            $($v,)*
        }

        pub fn elem_type(e: Elem) -> Type {
            match e {
                $(Elem::$v => Type::$v,)*
            }
        }

        /// The sequence element for a type, or `None` when sequences of it are not
        /// supported.
        pub fn to_elem(t: Type) -> Option<Elem> {
            Some(match t {
                Type::Null => Elem::Object,
                $(Type::$v => Elem::$v,)*
                _ => return None,
            })
        }
    };
}

sequence_elements!(
    Object, Bool, Int, Long, Double, Char, Str, DateTime, TimeSpan, Guid, JToken, JObject, JArray,
    JProperty, Match,
);

/// Enum types whose members are compile-time constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnumKind {
    StringComparison,
    StringSplitOptions,
    Formatting,
    RegexOptions,
    JTokenType,
    DayOfWeek,
    DateTimeKind,
}

/// Static classes (receivers of static members and `new`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    String,
    Int,
    Long,
    Double,
    Bool,
    Char,
    Guid,
    DateTime,
    DateTimeOffset,
    TimeSpan,
    Math,
    Convert,
    Encoding,
    Regex,
    Uri,
    WebUtility,
    JObject,
    JArray,
    JToken,
    JValue,
    JProperty,
    JsonConvert,
    CultureInfo,
    Enum(EnumKind),
}

/// A static type. `Object` is the dynamic type (`context.Variables[...]`): using it needs a
/// cast, `as`, `is`, `ToString()` or `==`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Void,
    /// The type of the `null` literal.
    Null,
    Object,
    Bool,
    Int,
    Long,
    Double,
    Char,
    Str,
    DateTime,
    TimeSpan,
    Guid,
    Bytes,
    Seq(Elem),
    JToken,
    JObject,
    JArray,
    JProperty,
    Jwt,
    Basic,
    Match,
    Group,
    Groups,
    /// `IReadOnlyDictionary<string, string[]>`: `Url.Query`, `Jwt.Claims`.
    StrMap,
    Context,
    /// `context.Request`.
    Request,
    /// `context.Response` or an `IResponse` from send-request.
    Response,
    Url,
    Headers,
    Body,
    Variables,
    MatchedParams,
    Entity(Entity),
    Certificate,
    Encoding,
    Enum(EnumKind),
    Class(Class),
}

impl Type {
    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Long | Type::Double | Type::Char)
    }

    pub fn is_json(self) -> bool {
        matches!(
            self,
            Type::JToken | Type::JObject | Type::JArray | Type::JProperty
        )
    }

    /// Reference types and everything that may hold `null` in this runtime.
    pub fn is_nullable_ref(self) -> bool {
        !matches!(self, Type::Void | Type::Class(_))
    }

    pub fn elem(self) -> Option<Type> {
        match self {
            Type::Seq(e) => Some(elem_type(e)),
            Type::JArray | Type::JToken => Some(Type::JToken),
            Type::Str => Some(Type::Char),
            _ => None,
        }
    }

    /// C#-style type name used in error messages.
    pub fn name(self) -> String {
        let s = match self {
            Type::Void => "void",
            Type::Null => "<null>",
            Type::Object => "object",
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Long => "long",
            Type::Double => "double",
            Type::Char => "char",
            Type::Str => "string",
            Type::DateTime => "DateTime",
            Type::TimeSpan => "TimeSpan",
            Type::Guid => "Guid",
            Type::Bytes => "byte[]",
            Type::Seq(e) => return format!("IEnumerable<{}>", elem_type(e).name()),
            Type::JToken => "JToken",
            Type::JObject => "JObject",
            Type::JArray => "JArray",
            Type::JProperty => "JProperty",
            Type::Jwt => "Jwt",
            Type::Basic => "BasicAuthCredentials",
            Type::Match => "Match",
            Type::Group => "Group",
            Type::Groups => "GroupCollection",
            Type::StrMap => "IReadOnlyDictionary<string, string[]>",
            Type::Context => "IContext",
            Type::Request => "IRequest",
            Type::Response => "IResponse",
            Type::Url => "IUrl",
            Type::Headers => "IReadOnlyDictionary<string, string[]>",
            Type::Body => "IMessageBody",
            Type::Variables => "IReadOnlyDictionary<string, object>",
            Type::MatchedParams => "IReadOnlyDictionary<string, string>",
            Type::Entity(e) => return e.type_name().to_string(),
            Type::Certificate => "X509Certificate2",
            Type::Encoding => "Encoding",
            Type::Enum(k) => return format!("{k:?}"),
            Type::Class(c) => return format!("{c:?}"),
        };
        s.to_string()
    }
}

/// Resolves a (possibly namespace-qualified) simple type name used in casts, declarations,
/// generic arguments and `is`/`as`.
pub fn type_by_name(name: &str) -> Option<Type> {
    let short = name.rsplit('.').next().unwrap_or(name);
    Some(match short {
        "object" | "Object" | "dynamic" => Type::Object,
        "bool" | "Boolean" => Type::Bool,
        "int" | "Int32" => Type::Int,
        "long" | "Int64" => Type::Long,
        "double" | "Double" | "float" | "Single" | "decimal" | "Decimal" => Type::Double,
        "char" | "Char" => Type::Char,
        "string" | "String" => Type::Str,
        "DateTime" | "DateTimeOffset" => Type::DateTime,
        "TimeSpan" => Type::TimeSpan,
        "Guid" => Type::Guid,
        "JToken" | "JValue" => Type::JToken,
        "JObject" => Type::JObject,
        "JArray" => Type::JArray,
        "JProperty" => Type::JProperty,
        "Jwt" => Type::Jwt,
        "BasicAuthCredentials" => Type::Basic,
        "IResponse" => Type::Response,
        "Match" => Type::Match,
        _ => return None,
    })
}

/// Resolves a class name (after stripping known namespaces) for static member access.
pub fn class_by_name(name: &str) -> Option<Class> {
    Some(match name {
        "string" | "String" | "System.String" => Class::String,
        "int" | "Int32" | "System.Int32" => Class::Int,
        "long" | "Int64" | "System.Int64" => Class::Long,
        "double" | "Double" | "System.Double" => Class::Double,
        "bool" | "Boolean" | "System.Boolean" => Class::Bool,
        "char" | "Char" | "System.Char" => Class::Char,
        "Guid" | "System.Guid" => Class::Guid,
        "DateTime" | "System.DateTime" => Class::DateTime,
        "DateTimeOffset" | "System.DateTimeOffset" => Class::DateTimeOffset,
        "TimeSpan" | "System.TimeSpan" => Class::TimeSpan,
        "Math" | "System.Math" => Class::Math,
        "Convert" | "System.Convert" => Class::Convert,
        "Encoding" | "System.Text.Encoding" => Class::Encoding,
        "Regex" | "System.Text.RegularExpressions.Regex" => Class::Regex,
        "Uri" | "System.Uri" => Class::Uri,
        "WebUtility" | "System.Net.WebUtility" => Class::WebUtility,
        "JObject" | "Newtonsoft.Json.Linq.JObject" => Class::JObject,
        "JArray" | "Newtonsoft.Json.Linq.JArray" => Class::JArray,
        "JToken" | "Newtonsoft.Json.Linq.JToken" => Class::JToken,
        "JValue" | "Newtonsoft.Json.Linq.JValue" => Class::JValue,
        "JProperty" | "Newtonsoft.Json.Linq.JProperty" => Class::JProperty,
        "JsonConvert" | "Newtonsoft.Json.JsonConvert" => Class::JsonConvert,
        "CultureInfo" | "System.Globalization.CultureInfo" => Class::CultureInfo,
        "StringComparison" | "System.StringComparison" => Class::Enum(EnumKind::StringComparison),
        "StringSplitOptions" | "System.StringSplitOptions" => {
            Class::Enum(EnumKind::StringSplitOptions)
        }
        "Formatting" | "Newtonsoft.Json.Formatting" => Class::Enum(EnumKind::Formatting),
        "RegexOptions" | "System.Text.RegularExpressions.RegexOptions" => {
            Class::Enum(EnumKind::RegexOptions)
        }
        "JTokenType" | "Newtonsoft.Json.Linq.JTokenType" => Class::Enum(EnumKind::JTokenType),
        "DayOfWeek" | "System.DayOfWeek" => Class::Enum(EnumKind::DayOfWeek),
        "DateTimeKind" | "System.DateTimeKind" => Class::Enum(EnumKind::DateTimeKind),
        _ => return None,
    })
}

/// Names of an enum's members, indexed by value (flags enums list single bits).
pub fn enum_members(k: EnumKind) -> &'static [(&'static str, i32)] {
    match k {
        EnumKind::StringComparison => &[
            ("CurrentCulture", 0),
            ("CurrentCultureIgnoreCase", 1),
            ("InvariantCulture", 2),
            ("InvariantCultureIgnoreCase", 3),
            ("Ordinal", 4),
            ("OrdinalIgnoreCase", 5),
        ],
        EnumKind::StringSplitOptions => {
            &[("None", 0), ("RemoveEmptyEntries", 1), ("TrimEntries", 2)]
        }
        EnumKind::Formatting => &[("None", 0), ("Indented", 1)],
        EnumKind::RegexOptions => &[
            ("None", 0),
            ("IgnoreCase", 1),
            ("Multiline", 2),
            ("ExplicitCapture", 4),
            ("Compiled", 8),
            ("Singleline", 16),
            ("IgnorePatternWhitespace", 32),
            ("RightToLeft", 64),
            ("ECMAScript", 256),
            ("CultureInvariant", 512),
        ],
        EnumKind::JTokenType => &[
            ("None", 0),
            ("Object", 1),
            ("Array", 2),
            ("Constructor", 3),
            ("Property", 4),
            ("Comment", 5),
            ("Integer", 6),
            ("Float", 7),
            ("String", 8),
            ("Boolean", 9),
            ("Null", 10),
            ("Undefined", 11),
            ("Date", 12),
            ("Raw", 13),
            ("Bytes", 14),
            ("Guid", 15),
            ("Uri", 16),
            ("TimeSpan", 17),
        ],
        EnumKind::DayOfWeek => &[
            ("Sunday", 0),
            ("Monday", 1),
            ("Tuesday", 2),
            ("Wednesday", 3),
            ("Thursday", 4),
            ("Friday", 5),
            ("Saturday", 6),
        ],
        EnumKind::DateTimeKind => &[("Unspecified", 0), ("Utc", 1), ("Local", 2)],
    }
}

/// The display name of an enum value (`"OrdinalIgnoreCase"`), or the number.
pub fn enum_name(k: EnumKind, v: i32) -> Option<&'static str> {
    enum_members(k)
        .iter()
        .find(|(_, n)| *n == v)
        .map(|(s, _)| *s)
}
