//! An object as `kubectl describe` reads it: labelled sections, conditions,
//! container states with their last state and exit codes, and the object's
//! events. Pure: the JSON in, text out (the effect fetches both).

use serde_json::{Map, Value};
use std::fmt::Write;

/// At most this many events are listed (the newest), as a screen can hold.
const MAX_EVENTS: usize = 200;

pub fn render(obj: &Value, events: &[Value], now: jiff::Timestamp) -> String {
    let mut out = String::new();
    match s(obj, "/kind") {
        "Pod" => pod(&mut out, obj),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => workload(&mut out, obj),
        _ => generic(&mut out, obj),
    }
    events_section(&mut out, events, now);
    out
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn num(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn arr<'a>(v: &'a Value, p: &str) -> &'a [Value] {
    v.pointer(p)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn or_none(x: &str) -> &str {
    if x.is_empty() {
        "<none>"
    } else {
        x
    }
}

/// `key:` padded to `width`, then the value; a multi-line value (labels)
/// continues under the first at the same column.
fn kv(out: &mut String, indent: usize, width: usize, key: &str, value: &str) {
    // at least one space after the longest label, as kubectl's tabwriter
    let label = format!("{key}:");
    let width = width.max(label.len() + 1);
    let mut lines = value.lines();
    let first = lines.next().unwrap_or("");
    let _ = writeln!(out, "{:indent$}{label:<width$}{first}", "");
    for more in lines {
        let _ = writeln!(out, "{:indent$}{:width$}{more}", "", "");
    }
}

fn map_lines(v: Option<&Value>, sep: &str) -> String {
    match v.and_then(Value::as_object) {
        Some(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| format!("{k}{sep}{}", v.as_str().unwrap_or(&v.to_string())))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => "<none>".into(),
    }
}

fn meta(out: &mut String, obj: &Value, width: usize) {
    kv(out, 0, width, "Name", s(obj, "/metadata/name"));
    if !s(obj, "/metadata/namespace").is_empty() {
        kv(out, 0, width, "Namespace", s(obj, "/metadata/namespace"));
    }
    if s(obj, "/kind") != "Pod" {
        kv(
            out,
            0,
            width,
            "CreationTimestamp",
            &rfc1123(s(obj, "/metadata/creationTimestamp")),
        );
    }
    kv(
        out,
        0,
        width,
        "Labels",
        &map_lines(obj.pointer("/metadata/labels"), "="),
    );
    kv(
        out,
        0,
        width,
        "Annotations",
        &map_lines(obj.pointer("/metadata/annotations"), ": "),
    );
}

/// kubectl prints times as RFC 1123 with a numeric zone.
fn rfc1123(t: &str) -> String {
    match t.parse::<jiff::Timestamp>() {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%a, %d %b %Y %H:%M:%S %z")
            .to_string(),
        Err(_) => or_none(t).to_string(),
    }
}

fn pod(out: &mut String, p: &Value) {
    const W: usize = 18;
    meta(out, p, W);
    // kubectl puts Namespace, Priority, Service Account, Node, Start Time
    // after Name; labels follow them
    let node = match (s(p, "/spec/nodeName"), s(p, "/status/hostIP")) {
        ("", _) => "<none>".to_string(),
        (n, "") => n.to_string(),
        (n, ip) => format!("{n}/{ip}"),
    };
    kv(
        out,
        0,
        W,
        "Service Account",
        or_none(s(p, "/spec/serviceAccountName")),
    );
    kv(out, 0, W, "Node", &node);
    kv(out, 0, W, "Start Time", &rfc1123(s(p, "/status/startTime")));
    let status = if p.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating".to_string()
    } else {
        s(p, "/status/phase").to_string()
    };
    kv(out, 0, W, "Status", or_none(&status));
    if !s(p, "/status/reason").is_empty() {
        kv(out, 0, W, "Reason", s(p, "/status/reason"));
    }
    kv(out, 0, W, "IP", or_none(s(p, "/status/podIP")));
    if let Some(owner) = arr(p, "/metadata/ownerReferences")
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
    {
        kv(
            out,
            0,
            W,
            "Controlled By",
            &format!("{}/{}", s(owner, "/kind"), s(owner, "/name")),
        );
    }
    let statuses = arr(p, "/status/containerStatuses");
    for (title, spec_path) in [
        ("Init Containers", "/spec/initContainers"),
        ("Containers", "/spec/containers"),
    ] {
        let specs = arr(p, spec_path);
        if specs.is_empty() {
            continue;
        }
        let statuses = if title == "Containers" {
            statuses
        } else {
            arr(p, "/status/initContainerStatuses")
        };
        let _ = writeln!(out, "{title}:");
        for c in specs {
            let name = s(c, "/name");
            let st = statuses.iter().find(|x| s(x, "/name") == name);
            container(out, c, st);
        }
    }
    conditions(out, p, false);
    kv(out, 0, W, "QoS Class", or_none(s(p, "/status/qosClass")));
    kv(
        out,
        0,
        W,
        "Node-Selectors",
        &map_lines(p.pointer("/spec/nodeSelector"), "="),
    );
}

fn container(out: &mut String, c: &Value, st: Option<&Value>) {
    const W: usize = 16;
    let _ = writeln!(out, "  {}:", s(c, "/name"));
    if let Some(st) = st {
        kv(out, 4, W, "Container ID", or_none(s(st, "/containerID")));
    }
    kv(out, 4, W, "Image", s(c, "/image"));
    let ports: Vec<String> = arr(c, "/ports")
        .iter()
        .map(|p| {
            let proto = match s(p, "/protocol") {
                "" => "TCP",
                x => x,
            };
            format!("{}/{proto}", num(p, "/containerPort"))
        })
        .collect();
    kv(out, 4, W, "Port", or_none(&ports.join(", ")));
    match st {
        Some(st) => {
            state_lines(out, "State", st.get("state"));
            if st
                .get("lastState")
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
            {
                state_lines(out, "Last State", st.get("lastState"));
            }
            let ready = if st.get("ready").and_then(Value::as_bool) == Some(true) {
                "True"
            } else {
                "False"
            };
            kv(out, 4, W, "Ready", ready);
            kv(
                out,
                4,
                W,
                "Restart Count",
                &num(st, "/restartCount").to_string(),
            );
        }
        None => kv(out, 4, W, "State", "Waiting"),
    }
    for (label, path) in [
        ("Liveness", "/livenessProbe"),
        ("Readiness", "/readinessProbe"),
        ("Startup", "/startupProbe"),
    ] {
        if let Some(probe) = c.pointer(path) {
            kv(out, 4, W, label, &probe_line(probe));
        }
    }
}

/// `State: Waiting / Reason: CrashLoopBackOff`, `Terminated` with its exit
/// code, `Running` with its start.
fn state_lines(out: &mut String, label: &str, state: Option<&Value>) {
    const W: usize = 16;
    let Some(state) = state.and_then(Value::as_object) else {
        return;
    };
    if let Some(r) = state.get("running") {
        kv(out, 4, W, label, "Running");
        kv(out, 6, W - 2, "Started", &rfc1123(s(r, "/startedAt")));
    } else if let Some(w) = state.get("waiting") {
        kv(out, 4, W, label, "Waiting");
        kv(out, 6, W - 2, "Reason", or_none(s(w, "/reason")));
        if !s(w, "/message").is_empty() {
            kv(out, 6, W - 2, "Message", s(w, "/message"));
        }
    } else if let Some(t) = state.get("terminated") {
        kv(out, 4, W, label, "Terminated");
        kv(out, 6, W - 2, "Reason", or_none(s(t, "/reason")));
        if !s(t, "/message").is_empty() {
            kv(out, 6, W - 2, "Message", s(t, "/message"));
        }
        kv(out, 6, W - 2, "Exit Code", &num(t, "/exitCode").to_string());
        kv(out, 6, W - 2, "Started", &rfc1123(s(t, "/startedAt")));
        kv(out, 6, W - 2, "Finished", &rfc1123(s(t, "/finishedAt")));
    }
}

/// `http-get http://:8080/healthz delay=0s timeout=1s period=10s
/// #success=1 #failure=3`, as kubectl prints a probe.
fn probe_line(p: &Value) -> String {
    let how = if let Some(h) = p.get("httpGet") {
        let port = h
            .get("port")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
            .unwrap_or_default();
        let scheme = s(h, "/scheme").to_lowercase();
        let scheme = if scheme.is_empty() { "http" } else { &scheme };
        format!(
            "http-get {scheme}://{}:{port}{}",
            s(h, "/host"),
            s(h, "/path")
        )
    } else if let Some(t) = p.get("tcpSocket") {
        let port = t.get("port").map(|v| v.to_string()).unwrap_or_default();
        format!("tcp-socket :{}", port.trim_matches('"'))
    } else if let Some(e) = p.get("exec") {
        let cmd: Vec<&str> = arr(e, "/command")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        format!("exec [{}]", cmd.join(" "))
    } else {
        "unknown".into()
    };
    let n = |path: &str, default: i64| p.pointer(path).and_then(Value::as_i64).unwrap_or(default);
    format!(
        "{how} delay={}s timeout={}s period={}s #success={} #failure={}",
        n("/initialDelaySeconds", 0),
        n("/timeoutSeconds", 1),
        n("/periodSeconds", 10),
        n("/successThreshold", 1),
        n("/failureThreshold", 3)
    )
}

fn conditions(out: &mut String, obj: &Value, with_reason: bool) {
    let conds = arr(obj, "/status/conditions");
    if conds.is_empty() {
        return;
    }
    let _ = writeln!(out, "Conditions:");
    let w = conds
        .iter()
        .map(|c| s(c, "/type").len())
        .max()
        .unwrap_or(4)
        .max(4)
        + 2;
    if with_reason {
        let _ = writeln!(out, "  {:<w$}{:<8}Reason", "Type", "Status");
        let _ = writeln!(out, "  {:<w$}{:<8}------", "----", "------");
    } else {
        let _ = writeln!(out, "  {:<w$}Status", "Type");
    }
    for c in conds {
        if with_reason {
            let _ = writeln!(
                out,
                "  {:<w$}{:<8}{}",
                s(c, "/type"),
                s(c, "/status"),
                s(c, "/reason")
            );
        } else {
            let _ = writeln!(out, "  {:<w$}{}", s(c, "/type"), s(c, "/status"));
        }
    }
}

fn workload(out: &mut String, w: &Value) {
    const W: usize = 24;
    meta(out, w, W);
    kv(out, 0, W, "Selector", &selector(w));
    let kind = s(w, "/kind");
    let desired = num(w, "/spec/replicas");
    let replicas = match kind {
        "Deployment" => format!(
            "{desired} desired | {} updated | {} total | {} available | {} unavailable",
            num(w, "/status/updatedReplicas"),
            num(w, "/status/replicas"),
            num(w, "/status/availableReplicas"),
            num(w, "/status/unavailableReplicas")
        ),
        "DaemonSet" => format!(
            "{} desired | {} current | {} ready | {} up-to-date | {} available",
            num(w, "/status/desiredNumberScheduled"),
            num(w, "/status/currentNumberScheduled"),
            num(w, "/status/numberReady"),
            num(w, "/status/updatedNumberScheduled"),
            num(w, "/status/numberAvailable")
        ),
        _ => format!(
            "{desired} desired | {} total | {} ready",
            num(w, "/status/replicas"),
            num(w, "/status/readyReplicas")
        ),
    };
    kv(out, 0, W, "Replicas", &replicas);
    let strategy = match kind {
        "Deployment" => s(w, "/spec/strategy/type"),
        "StatefulSet" | "DaemonSet" => s(w, "/spec/updateStrategy/type"),
        _ => "",
    };
    if !strategy.is_empty() {
        kv(out, 0, W, "StrategyType", strategy);
    }
    if w.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        kv(out, 0, W, "Paused", "true");
    }
    let _ = writeln!(out, "Pod Template:");
    kv(
        out,
        2,
        10,
        "Labels",
        &map_lines(w.pointer("/spec/template/metadata/labels"), "="),
    );
    let _ = writeln!(out, "  Containers:");
    for c in arr(w, "/spec/template/spec/containers") {
        let _ = writeln!(out, "   {}:", s(c, "/name"));
        kv(out, 4, 12, "Image", s(c, "/image"));
        for (label, path) in [
            ("Liveness", "/livenessProbe"),
            ("Readiness", "/readinessProbe"),
        ] {
            if let Some(probe) = c.pointer(path) {
                kv(out, 4, 12, label, &probe_line(probe));
            }
        }
    }
    conditions(out, w, true);
}

fn selector(w: &Value) -> String {
    match w.pointer("/spec/selector/matchLabels") {
        Some(m) => map_lines(Some(m), "=").replace('\n', ","),
        None => map_lines(w.pointer("/spec/selector"), "=").replace('\n', ","),
    }
}

/// Any other kind: its metadata, then every other top-level field as
/// indented `Key: value` lines, as kubectl's generic describer does.
fn generic(out: &mut String, obj: &Value) {
    meta(out, obj, 20);
    kv(out, 0, 20, "API Version", s(obj, "/apiVersion"));
    kv(out, 0, 20, "Kind", s(obj, "/kind"));
    if let Some(m) = obj.as_object() {
        for (k, v) in m {
            if matches!(k.as_str(), "metadata" | "apiVersion" | "kind") {
                continue;
            }
            field(out, 0, k, v);
        }
    }
}

fn title_case(k: &str) -> String {
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn field(out: &mut String, indent: usize, key: &str, v: &Value) {
    // nesting is bounded by the object; a server's object is never deep
    if indent > 40 {
        return;
    }
    let key = title_case(key);
    match v {
        Value::Object(m) => {
            let _ = writeln!(out, "{:indent$}{key}:", "");
            fields(out, indent + 2, m);
        }
        Value::Array(a) => {
            let _ = writeln!(out, "{:indent$}{key}:", "");
            for item in a {
                match item {
                    Value::Object(m) => fields(out, indent + 2, m),
                    other => {
                        let _ = writeln!(out, "{:w$}{}", "", scalar(other), w = indent + 2);
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{:indent$}{key}:  {}", "", scalar(other));
        }
    }
}

fn fields(out: &mut String, indent: usize, m: &Map<String, Value>) {
    for (k, v) in m {
        field(out, indent, k, v);
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// `Events:` as kubectl lists them: oldest first, `2m (x5 over 4m)`, the
/// reporting component; `<none>` when there are none.
fn events_section(out: &mut String, events: &[Value], now: jiff::Timestamp) {
    if events.is_empty() {
        let _ = writeln!(out, "Events:  <none>");
        return;
    }
    let last = |e: &Value| -> String {
        match s(e, "/lastTimestamp") {
            "" => s(e, "/eventTime").to_string(),
            x => x.to_string(),
        }
    };
    let mut sorted: Vec<&Value> = events.iter().collect();
    sorted.sort_by_key(|e| last(e));
    let skip = sorted.len().saturating_sub(MAX_EVENTS);
    let rows: Vec<[String; 5]> = sorted[skip..]
        .iter()
        .map(|e| {
            let count = num(e, "/count");
            let first = match s(e, "/firstTimestamp") {
                "" => last(e),
                x => x.to_string(),
            };
            let age = if count > 1 {
                format!(
                    "{} (x{count} over {})",
                    age(now, &last(e)),
                    age(now, &first)
                )
            } else {
                age(now, &last(e))
            };
            let from = match s(e, "/source/component") {
                "" => s(e, "/reportingComponent"),
                x => x,
            };
            [
                s(e, "/type").to_string(),
                s(e, "/reason").to_string(),
                age,
                from.to_string(),
                s(e, "/message").trim().to_string(),
            ]
        })
        .collect();
    let head = ["Type", "Reason", "Age", "From", "Message"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(head[i].len())
                + 2
        })
        .collect();
    let _ = writeln!(out, "Events:");
    let line = |out: &mut String, cells: [&str; 5]| {
        let mut l = String::from("  ");
        for i in 0..4 {
            let _ = write!(l, "{:<w$}", cells[i], w = widths[i]);
        }
        l.push_str(cells[4]);
        let _ = writeln!(out, "{}", l.trim_end());
    };
    line(out, head);
    line(out, ["----", "------", "----", "----", "-------"]);
    for r in &rows {
        line(out, [&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
}

fn age(now: jiff::Timestamp, t: &str) -> String {
    match t.parse::<jiff::Timestamp>() {
        Ok(ts) => crate::ui::format::kube_age(now.as_second() - ts.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests;
