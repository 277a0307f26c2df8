//! The route table: from a request's path, method and query to an API and operation.
//!
//! Built once per configuration snapshot from the APIs in `gateway.yaml`, immutable, and
//! shared by every shard. A lookup allocates nothing: matched template parameters are
//! written as byte ranges into a caller-owned buffer.
//!
//! Rules (APIM's, see docs/architecture.md): the API is the longest `path` prefix on a
//! segment boundary; then among the API's operations with the request's method, the
//! best URL-template match wins — segment by segment, a literal beats `{param}`, which
//! beats `{*rest}` / `/*`; more matched query constraints break ties.

pub mod service_url;
mod table;
mod template;

pub use service_url::{ServiceUrl, UrlRef};
pub use table::{ApiIdx, ApiRoute, OpIdx, OpRoute, ParamMatch, RouteError, RouteMatch, RouteTable};
pub use template::{Segment, Template, TemplateError};
