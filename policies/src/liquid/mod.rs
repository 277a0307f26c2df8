//! Liquid templates for `<set-body template="liquid">`: the DotLiquid subset APIM
//! policies use, parsed once at load ([`Template::parse`]) and rendered per request
//! into the request arena ([`render`]).
//!
//! Bindings (as APIM's "C# mode"): `context.Request.{Url, Method, OriginalMethod,
//! OriginalUrl, IpAddress, MatchedParameters, HasBody, Headers}`,
//! `context.Response.{StatusCode, StatusReason, Method, Headers}` and `body`, the
//! message body parsed as JSON (or XML, through the xml-to-json conversion) by its
//! Content-Type. Filters are PascalCase (`Upcase`); the snake_case spelling
//! (`upcase`, `divided_by`) is accepted too. Unsupported tags, filters and syntax are
//! load errors.

mod parse;
mod render;

#[cfg(test)]
mod tests;

pub use render::render;

/// A load error: message and byte offset in the template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiquidError {
    pub offset: usize,
    pub message: String,
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
    reads_body: bool,
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, LiquidError> {
        parse::parse(src)
    }

    /// The template reads `body` (the proxy must buffer the message body).
    pub fn reads_body(&self) -> bool {
        self.reads_body
    }
}

#[derive(Debug, Clone)]
enum Node {
    Text(Box<str>),
    Output(FilteredExpr),
    If {
        branches: Vec<(Cond, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Case {
        subject: Term,
        whens: Vec<(Vec<Term>, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    For(Box<ForLoop>),
    Assign(Box<str>, FilteredExpr),
    Break,
    Continue,
}

#[derive(Debug, Clone)]
struct ForLoop {
    var: Box<str>,
    source: Term,
    limit: Option<Term>,
    offset: Option<Term>,
    reversed: bool,
    body: Vec<Node>,
    otherwise: Vec<Node>,
}

#[derive(Debug, Clone)]
struct FilteredExpr {
    base: Term,
    filters: Vec<Filter>,
}

#[derive(Debug, Clone)]
struct Filter {
    kind: FilterKind,
    args: Vec<Term>,
}

#[derive(Debug, Clone)]
enum Term {
    Lit(Lit),
    Path(Path),
    Range(Box<(Term, Term)>),
}

#[derive(Debug, Clone)]
enum Lit {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Empty,
    Blank,
}

#[derive(Debug, Clone)]
struct Path {
    root: Box<str>,
    segs: Vec<Seg>,
}

#[derive(Debug, Clone)]
enum Seg {
    Key(Box<str>),
    Index(i64),
    Dyn(Box<Term>),
}

#[derive(Debug, Clone)]
enum Cond {
    Truthy(Term),
    Cmp(Term, Cmp, Term),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Gt => ">",
            Cmp::Le => "<=",
            Cmp::Ge => ">=",
            Cmp::Contains => "contains",
        }
    }
}

macro_rules! filters {
    ($($kind:ident $name:literal $min:literal $max:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum FilterKind { $($kind,)* }

        impl FilterKind {
            /// `Upcase`, `upcase`, `divided_by`, `DividedBy`: case and `_` ignored.
            fn from_name(name: &str) -> Option<FilterKind> {
                let n: String = name
                    .chars()
                    .filter(|c| *c != '_')
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                match n.as_str() {
                    $($name => Some(FilterKind::$kind),)*
                    _ => None,
                }
            }

            /// Minimum and maximum argument counts.
            fn arity(self) -> (usize, usize) {
                match self { $(FilterKind::$kind => ($min, $max),)* }
            }
        }
    };
}

filters! {
    Default "default" 1 1,
    Upcase "upcase" 0 0,
    Downcase "downcase" 0 0,
    Capitalize "capitalize" 0 0,
    Append "append" 1 1,
    Prepend "prepend" 1 1,
    Replace "replace" 1 2,
    ReplaceFirst "replacefirst" 1 2,
    Remove "remove" 1 1,
    RemoveFirst "removefirst" 1 1,
    Size "size" 0 0,
    First "first" 0 0,
    Last "last" 0 0,
    Join "join" 0 1,
    Split "split" 1 1,
    Strip "strip" 0 0,
    Lstrip "lstrip" 0 0,
    Rstrip "rstrip" 0 0,
    StripNewlines "stripnewlines" 0 0,
    StripHtml "striphtml" 0 0,
    NewlineToBr "newlinetobr" 0 0,
    Truncate "truncate" 0 2,
    TruncateWords "truncatewords" 0 2,
    Plus "plus" 1 1,
    Minus "minus" 1 1,
    Times "times" 1 1,
    DividedBy "dividedby" 1 1,
    Modulo "modulo" 1 1,
    Abs "abs" 0 0,
    AtLeast "atleast" 1 1,
    AtMost "atmost" 1 1,
    Round "round" 0 1,
    Ceil "ceil" 0 0,
    Floor "floor" 0 0,
    UrlEncode "urlencode" 0 0,
    UrlDecode "urldecode" 0 0,
    Escape "escape" 0 0,
    H "h" 0 0,
    Date "date" 1 1,
    Reverse "reverse" 0 0,
    Sort "sort" 0 1,
    Uniq "uniq" 0 0,
    Compact "compact" 0 0,
    Map "map" 1 1,
    Slice "slice" 1 2,
}
