//! Untyped syntax tree produced by the parser. Every node carries its byte offset.

/// `T`, `T[]`, `T?`, `Dictionary<string, object>`; the name may be dotted.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    pub name: String,
    pub args: Vec<TypeName>,
    pub array: bool,
    pub nullable: bool,
    pub pos: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    BitAnd,
    BitXor,
    BitOr,
    And,
    Or,
    Coalesce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    BitNot,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutTarget {
    /// `out var x` (`None`) or `out T x`.
    Decl(Option<TypeName>, String),
    /// `out x` for an existing local.
    Existing(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<String>,
    pub out: Option<OutTarget>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InterpPart {
    Text(String),
    Hole {
        expr: Expr,
        align: Option<i32>,
        format: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(u64, bool),
    Double(f64),
    Char(char),
    Str(String),
    Interp(Vec<InterpPart>),
    Ident(String),
    /// `a.b` or `a.b<T>` (generic arguments only meaningful when called).
    Member(Box<Expr>, String, Vec<TypeName>),
    Call(Box<Expr>, Vec<Arg>),
    Index(Box<Expr>, Vec<Expr>),
    /// `target?.chain`: `chain` refers to the tested value through `CondReceiver`.
    CondAccess(Box<Expr>, Box<Expr>),
    CondReceiver,
    Unary(UnOp, Box<Expr>),
    /// `++x` / `x--`: target, delta, postfix.
    IncDec(Box<Expr>, i32, bool),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `target = value` or compound `target op= value`.
    Assign(Box<Expr>, Option<BinOp>, Box<Expr>),
    Cast(TypeName, Box<Expr>),
    /// `x is T` / `x is T name`.
    Is(Box<Expr>, TypeName, Option<String>),
    /// `x is null` / `x is not null`.
    IsNull(Box<Expr>, bool),
    As(Box<Expr>, TypeName),
    Lambda(Vec<String>, Box<Expr>),
    New(TypeName, Vec<Arg>),
    NewArray(Option<TypeName>, Vec<Expr>),
    NewAnon(Vec<(String, Expr)>),
    Default(TypeName),
    Typeof(TypeName),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    Block(Vec<Stmt>),
    /// `var x = e;` (type `None`) or `T x = e, y;`.
    Decl(Option<TypeName>, Vec<(String, Option<Expr>, usize)>),
    Expr(Expr),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    Return(Option<Expr>),
    Foreach(Option<TypeName>, String, Expr, Box<Stmt>),
    For(Option<Box<Stmt>>, Option<Expr>, Vec<Expr>, Box<Stmt>),
    While(Expr, Box<Stmt>),
    Break,
    Continue,
    Throw(Option<Expr>),
    Empty,
}

/// A whole expression: `@( expr )` or `@{ statements }`.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Expr(Expr),
    Block(Vec<Stmt>),
}
