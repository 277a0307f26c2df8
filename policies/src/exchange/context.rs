//! What expressions read: [`ExprContext`] over an [`Exchange`].

use bumpalo::Bump;

use crate::expr::{
    Certificate, DateTime, Entity, EvalError, ExprContext, Field, Guid, Msg, TimeSpan, UrlKind,
    UrlParts, Value,
};

use super::{Exchange, ProductInfo, SubscriptionInfo};

fn date<'a>(unix: Option<i64>) -> Value<'a> {
    unix.and_then(|t| DateTime::from_unix_seconds(t, crate::expr::DateKind::Utc))
        .map_or(Value::Null, Value::DateTime)
}

fn subscription_field<'a>(sub: Option<SubscriptionInfo<'a>>, field: Field) -> Value<'a> {
    let Some(sub) = sub else {
        return Value::Null;
    };
    match field {
        Field::SubscriptionId => Value::Str(sub.id),
        Field::SubscriptionName => Value::Str(sub.name),
        Field::SubscriptionKey => Value::Str(sub.key),
        Field::SubscriptionPrimaryKey => Value::Str(sub.primary_key),
        Field::SubscriptionSecondaryKey => Value::Str(sub.secondary_key),
        // Subscriptions are written in the config: they exist from their start date on.
        Field::SubscriptionCreatedDate => date(sub.start.or(Some(0))),
        Field::SubscriptionStartDate => date(sub.start),
        Field::SubscriptionEndDate => date(sub.end),
        _ => Value::Null,
    }
}

fn product_field<'a>(product: Option<ProductInfo<'a>>, field: Field) -> Value<'a> {
    let Some(p) = product else {
        return Value::Null;
    };
    match field {
        Field::ProductId => Value::Str(p.id),
        Field::ProductName => Value::Str(p.name),
        Field::ProductState => Value::Str(if p.published {
            "Published"
        } else {
            "NotPublished"
        }),
        Field::ProductSubscriptionRequired => Value::Bool(p.subscription_required),
        Field::ProductApprovalRequired => Value::Bool(p.approval_required),
        _ => Value::Null,
    }
}

impl<'a> ExprContext<'a> for Exchange<'a> {
    fn arena(&self) -> &'a Bump {
        self.arena
    }

    fn method(&self) -> &'a str {
        self.request.method
    }

    fn url(&self, which: UrlKind) -> Option<UrlParts<'a>> {
        let r = &self.request;
        match which {
            UrlKind::Request => Some(UrlParts {
                scheme: r.scheme,
                host: r.host,
                port: r.port,
                path: r.path,
                query: r.query,
            }),
            UrlKind::Original => Some(UrlParts {
                scheme: r.scheme,
                host: r.host,
                port: r.port,
                path: r.original_path,
                query: r.original_query,
            }),
            UrlKind::ApiService => {
                self.info
                    .service_url
                    .map(|(scheme, host, port, path)| UrlParts {
                        scheme,
                        host,
                        port,
                        path,
                        query: "",
                    })
            }
        }
    }

    fn header_values(&self, msg: Msg, name: &str) -> Option<&'a [&'a str]> {
        match msg {
            Msg::Request => self.request.headers.values(name),
            Msg::Response => self.response.as_ref()?.headers.values(name),
            Msg::Stored(id) => self.stored.get(id as usize)?.headers.values(name),
        }
    }

    fn header_names(&self, msg: Msg) -> &'a [&'a str] {
        match msg {
            Msg::Request => self.request.headers.names(),
            Msg::Response => self.response.as_ref().map_or(&[], |r| r.headers.names()),
            Msg::Stored(id) => self
                .stored
                .get(id as usize)
                .map_or(&[], |r| r.headers.names()),
        }
    }

    fn has_body(&self, msg: Msg) -> bool {
        match msg {
            Msg::Request => self.request.body.is_some_and(|b| !b.is_empty()),
            Msg::Response => self
                .response
                .as_ref()
                .is_some_and(|r| r.body.is_some_and(|b| !b.is_empty())),
            Msg::Stored(id) => self
                .stored
                .get(id as usize)
                .is_some_and(|r| r.body.is_some_and(|b| !b.is_empty())),
        }
    }

    fn body(&self, msg: Msg, preserve_content: bool) -> Result<&'a [u8], EvalError> {
        let (body, bit) = match msg {
            Msg::Request => (self.request.body, super::CONSUMED_REQUEST),
            Msg::Response => (
                self.response.as_ref().and_then(|r| r.body),
                super::CONSUMED_RESPONSE,
            ),
            Msg::Stored(id) => (self.stored.get(id as usize).and_then(|r| r.body), 0),
        };
        let body = body.ok_or_else(|| {
            EvalError::new("the message body is not available to expressions (it is streamed)")
        })?;
        // Without preserveContent the read consumes the stream (APIM): what comes after
        // sees an empty body.
        if bit != 0 && self.is_consumed(bit) {
            return Ok(b"");
        }
        if bit != 0 && !preserve_content {
            self.mark_consumed(bit, true);
        }
        Ok(body)
    }

    fn ip_address(&self) -> &'a str {
        self.request.ip
    }

    fn matched_parameter(&self, name: &str) -> Option<&'a str> {
        self.request
            .matched
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    fn status(&self, msg: Msg) -> (i32, &'a str) {
        let r = match msg {
            Msg::Response => self.response.as_ref(),
            Msg::Stored(id) => self.stored.get(id as usize),
            Msg::Request => None,
        };
        r.map_or((0, ""), |r| (i32::from(r.status), r.reason))
    }

    fn variable(&self, name: &str) -> Option<Value<'a>> {
        Exchange::variable(self, name)
    }

    fn has_entity(&self, entity: Entity) -> bool {
        match entity {
            Entity::Api | Entity::Operation | Entity::Deployment => true,
            Entity::LastError => self.last_error.is_some(),
            Entity::Subscription => self.info.subscription.is_some(),
            Entity::Product => self.info.product.is_some(),
            // Users (developer-portal accounts) do not exist at a self-hosted gateway.
            Entity::User => false,
        }
    }

    fn field(&self, field: Field) -> Value<'a> {
        let i = &self.info;
        let e = self.last_error.unwrap_or_default();
        let s = |v: &'a str| Value::Str(v);
        match field {
            Field::ApiId => s(i.api_id),
            Field::ApiName => s(i.api_name),
            Field::ApiPath => s(i.api_path),
            Field::ApiRevision => s("1"),
            Field::ApiVersion => Value::Null,
            Field::ApiIsCurrentRevision => Value::Bool(true),
            Field::OperationId => s(i.operation_id),
            Field::OperationName => s(i.operation_name),
            Field::OperationMethod => s(i.operation_method),
            Field::OperationUrlTemplate => s(i.url_template),
            Field::DeploymentGatewayId => s(i.gateway_id),
            Field::DeploymentRegion => s(i.region),
            Field::DeploymentServiceName => s(i.service_name),
            Field::LastErrorSource => s(e.source),
            Field::LastErrorReason => s(e.reason),
            Field::LastErrorMessage => s(e.message),
            Field::LastErrorScope => s(e.scope),
            Field::LastErrorSection => s(e.section),
            Field::LastErrorPath => s(e.path),
            Field::LastErrorPolicyId => s(e.policy_id),
            Field::SubscriptionId
            | Field::SubscriptionName
            | Field::SubscriptionKey
            | Field::SubscriptionPrimaryKey
            | Field::SubscriptionSecondaryKey
            | Field::SubscriptionCreatedDate
            | Field::SubscriptionStartDate
            | Field::SubscriptionEndDate => subscription_field(i.subscription, field),
            Field::ProductId
            | Field::ProductName
            | Field::ProductState
            | Field::ProductSubscriptionRequired
            | Field::ProductApprovalRequired
            | Field::ProductSubscriptionLimit => product_field(i.product, field),
        }
    }

    fn certificate(&self) -> Option<Certificate<'a>> {
        let c = self.info.client_cert?;
        let at = |t| DateTime::from_unix_seconds(t, crate::expr::DateKind::Utc);
        let now = self.timestamp().unix_seconds();
        Some(Certificate {
            subject: c.subject,
            issuer: c.issuer,
            thumbprint: c.thumbprint,
            serial_number: c.serial_number,
            not_before: at(c.not_before)?,
            not_after: at(c.not_after)?,
            verified: c.trusted && !c.revoked && c.not_before <= now && now <= c.not_after,
        })
    }

    fn request_id(&self) -> Guid {
        Guid(self.info.request_id)
    }

    fn timestamp(&self) -> DateTime {
        self.now
    }

    fn utc_now(&self) -> DateTime {
        DateTime {
            ticks: self.now.ticks + self.elapsed_ticks,
            kind: self.now.kind,
        }
    }

    fn elapsed(&self) -> TimeSpan {
        TimeSpan {
            ticks: self.elapsed_ticks,
        }
    }

    fn tracing(&self) -> bool {
        false
    }

    fn random_u64(&self) -> u64 {
        self.next_random()
    }
}
