//! `emit-metric`: a custom metric handed to the host (the gateway's metrics land with
//! the observability issue; until then the proxy logs them at debug level).

use crate::program::{Insn, MetricSpec, Operand};

use super::{Compiler, Ctx};

pub(super) fn emit_metric(c: &mut Compiler, ctx: &Ctx<'_>) {
    let Some(name) = c.literal(ctx, "name", None, "the metric name", |v| {
        (!v.is_empty()).then(|| v.to_string())
    }) else {
        return;
    };
    let namespace = ctx
        .el
        .attr_value("namespace")
        .unwrap_or("API Management")
        .to_string();
    let value = c
        .operand_attr(ctx, "value")
        .unwrap_or(Operand::Text("1".into()));
    let mut dimensions = Vec::new();
    for d in ctx.el.elements().filter(|e| e.name == "dimension") {
        let Some(dname) = d.attr_value("name") else {
            continue;
        };
        let sub = ctx.child(d, ctx.path);
        let value = c.operand_attr(&sub, "value");
        dimensions.push((dname.into(), value));
    }
    if dimensions.len() > 10 {
        c.error(
            ctx.el,
            "emit-metric takes at most 10 dimensions".into(),
            None,
        );
        return;
    }
    c.emit(
        ctx,
        Insn::EmitMetric(Box::new(MetricSpec {
            name: name.into(),
            namespace: namespace.into(),
            value,
            dimensions: dimensions.into(),
        })),
    );
}
