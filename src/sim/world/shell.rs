//! The simulated shell behind exec and attach: a small, deterministic
//! command interpreter per session (never the host's shell). It is a pure
//! state machine: input in, `Step`s out; the API layer plays the steps
//! (writes output, waits out `sleep`, sends the exit status).

use std::time::Duration;

/// Longest line kept while typing; the rest is dropped, as a full tty buffer does.
const MAX_LINE: usize = 4096;
/// Longest `sleep` served (a session is closed by its client long before).
const MAX_SLEEP: f64 = 3600.0;
/// Nested `bash`/`sh` levels.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Out(Vec<u8>),
    Err(Vec<u8>),
    Sleep(Duration),
    Exit(i32),
}

/// What the shell knows of its container.
#[derive(Debug, Clone)]
pub struct Container {
    pub pod: String,
    pub namespace: String,
    pub image: String,
    /// Literal `env` entries of the container spec.
    pub env: Vec<(String, String)>,
}

pub struct Shell {
    c: Container,
    tty: bool,
    /// Width and height of the last resize.
    size: Option<(u16, u16)>,
    line: Vec<u8>,
    /// Skipping an escape sequence (arrow keys): 1 after ESC, 2 inside CSI.
    esc: u8,
    last: i32,
    /// Interactive levels (`bash` inside the session's shell adds one).
    depth: usize,
    interactive: bool,
}

impl Shell {
    pub fn new(c: Container, tty: bool) -> Shell {
        Shell {
            c,
            tty,
            size: None,
            line: Vec::new(),
            esc: 0,
            last: 0,
            depth: 0,
            interactive: false,
        }
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.size = Some((width, height));
    }

    pub fn prompt(&self) -> String {
        format!("root@{}:/# ", self.c.pod)
    }

    /// Start the session: `command` empty or a bare shell is interactive
    /// (reads stdin); anything else runs and exits with its status.
    pub fn start(&mut self, command: &[String]) -> Vec<Step> {
        let mut out = Vec::new();
        let bare = command.is_empty()
            || (command.len() == 1 && is_shell(&command[0]))
            || (command.len() == 2 && is_shell(&command[0]) && command[1] == "-i");
        if bare {
            self.interactive = true;
            self.depth = 1;
            if self.tty {
                out.push(Step::Out(self.prompt().into_bytes()));
            }
            return out;
        }
        let status = self.run_argv(command, &mut out);
        if self.depth > 0 {
            // `exec ... -- sh -c 'bash'`-like: the nested shell reads stdin
            self.interactive = true;
            if self.tty {
                out.push(Step::Out(self.prompt().into_bytes()));
            }
            return out;
        }
        out.push(Step::Exit(status));
        out
    }

    /// Stdin bytes: echoed and edited in TTY mode, run line by line.
    pub fn input(&mut self, bytes: &[u8]) -> Vec<Step> {
        let mut out = Vec::new();
        if !self.interactive {
            return out;
        }
        for &b in bytes {
            if self.esc == 1 {
                self.esc = if b == b'[' || b == b'O' { 2 } else { 0 };
                continue;
            }
            if self.esc == 2 {
                if (0x40..=0x7e).contains(&b) {
                    self.esc = 0;
                }
                continue;
            }
            match b {
                0x1b if self.tty => self.esc = 1,
                b'\r' | b'\n' => {
                    if self.tty {
                        out.push(Step::Out(b"\r\n".to_vec()));
                    }
                    let line =
                        String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned();
                    self.last = self.run_line(&line, &mut out);
                    if self.depth == 0 {
                        out.push(Step::Exit(self.last));
                        return out;
                    }
                    if self.tty {
                        out.push(Step::Out(self.prompt().into_bytes()));
                    }
                    // a tty sends \r for Enter: a following \n is not a second line
                }
                0x7f | 0x08 if self.tty => {
                    if self.line.pop().is_some() {
                        // drop a whole UTF-8 sequence
                        while self.line.last().is_some_and(|c| c & 0xc0 == 0x80) {
                            self.line.pop();
                        }
                        out.push(Step::Out(b"\x08 \x08".to_vec()));
                    }
                }
                0x03 if self.tty => out.extend(self.interrupt()),
                0x04 if self.tty => {
                    if self.line.is_empty() {
                        out.push(Step::Out(b"exit\r\n".to_vec()));
                        self.depth -= 1;
                        if self.depth == 0 {
                            out.push(Step::Exit(self.last));
                            return out;
                        }
                        out.push(Step::Out(self.prompt().into_bytes()));
                    }
                }
                c => {
                    if self.line.len() < MAX_LINE {
                        self.line.push(c);
                        if self.tty {
                            out.push(Step::Out(vec![c]));
                        }
                    }
                }
            }
        }
        coalesce(out)
    }

    /// Ctrl-C: the line (or a running `sleep`) is abandoned.
    pub fn interrupt(&mut self) -> Vec<Step> {
        self.line.clear();
        self.last = 130;
        if self.interactive && self.tty {
            vec![Step::Out(format!("^C\r\n{}", self.prompt()).into_bytes())]
        } else {
            vec![Step::Exit(130)]
        }
    }

    /// Stdin closed: a shell reading it ends with the last status.
    pub fn stdin_closed(&mut self) -> Vec<Step> {
        if !self.interactive {
            return Vec::new();
        }
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned();
            self.last = self.run_line(&line, &mut out);
        }
        out.push(Step::Exit(self.last));
        out
    }

    fn nl(&self) -> &'static str {
        if self.tty {
            "\r\n"
        } else {
            "\n"
        }
    }

    fn say(&self, out: &mut Vec<Step>, text: &str) {
        out.push(Step::Out(format!("{text}{}", self.nl()).into_bytes()));
    }

    fn complain(&self, out: &mut Vec<Step>, text: &str) {
        let bytes = format!("{text}{}", self.nl()).into_bytes();
        // a tty has one output stream
        out.push(if self.tty {
            Step::Out(bytes)
        } else {
            Step::Err(bytes)
        });
    }

    /// One script line: `a; b && c || d`.
    fn run_line(&mut self, line: &str, out: &mut Vec<Step>) -> i32 {
        let mut status = self.last;
        for (sep, part) in split_list(line) {
            let run = match sep {
                Sep::Seq => true,
                Sep::And => status == 0,
                Sep::Or => status != 0,
            };
            if !run {
                continue;
            }
            let words = words(&part, status, &self.vars());
            if words.is_empty() {
                continue;
            }
            status = self.run_argv(&words, out);
            self.last = status;
            if self.depth == 0 {
                break;
            }
        }
        status
    }

    fn vars(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("HOSTNAME".to_string(), self.c.pod.clone()),
            (
                "PATH".into(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            ),
            ("HOME".into(), "/root".into()),
            ("KUBERNETES_SERVICE_HOST".into(), "10.96.0.1".into()),
            ("KUBERNETES_SERVICE_PORT".into(), "443".into()),
            ("POD_NAMESPACE".into(), self.c.namespace.clone()),
        ];
        if self.tty {
            v.push(("TERM".into(), "xterm".into()));
        }
        v.extend(self.c.env.iter().cloned());
        v
    }

    fn run_argv(&mut self, argv: &[String], out: &mut Vec<Step>) -> i32 {
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        match args.as_slice() {
            [] => self.last,
            ["hostname", ..] => {
                self.say(out, &self.c.pod);
                0
            }
            ["env"] | ["printenv"] => {
                let text: Vec<String> = self
                    .vars()
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                self.say(out, &text.join(self.nl()));
                0
            }
            ["printenv", name] => match self.vars().iter().find(|(k, _)| k == name) {
                Some((_, v)) => {
                    self.say(out, v);
                    0
                }
                None => 1,
            },
            ["echo", rest @ ..] => {
                let (rest, newline) = match rest.first() {
                    Some(&"-n") => (&rest[1..], false),
                    _ => (rest, true),
                };
                let text = rest.join(" ");
                if newline {
                    self.say(out, &text);
                } else if !text.is_empty() {
                    out.push(Step::Out(text.into_bytes()));
                }
                0
            }
            ["ls", paths @ ..] => self.ls(paths, out),
            ["cat", files @ ..] => {
                let mut status = 0;
                for f in files {
                    match self.file(f) {
                        Some(text) => {
                            out.push(Step::Out(text.replace('\n', self.nl()).into_bytes()))
                        }
                        None => {
                            self.complain(out, &format!("cat: {f}: No such file or directory"));
                            status = 1;
                        }
                    }
                }
                status
            }
            ["pwd"] => {
                self.say(out, "/");
                0
            }
            ["whoami"] => {
                self.say(out, "root");
                0
            }
            ["true"] | [":"] => 0,
            ["false"] => 1,
            ["sleep", n] => match n.parse::<f64>() {
                Ok(secs) if secs >= 0.0 && secs.is_finite() => {
                    out.push(Step::Sleep(Duration::from_secs_f64(secs.min(MAX_SLEEP))));
                    0
                }
                _ => {
                    self.complain(out, &format!("sleep: invalid time interval '{n}'"));
                    1
                }
            },
            ["sleep"] => {
                self.complain(out, "sleep: missing operand");
                1
            }
            ["exit", rest @ ..] => {
                let code = match rest.first() {
                    Some(n) => n.parse::<i64>().map(|n| (n & 0xff) as i32).unwrap_or(2),
                    None => self.last,
                };
                if self.interactive && self.tty {
                    self.say(out, "exit");
                }
                self.depth = self.depth.saturating_sub(1);
                code
            }
            ["stty", "size"] => match (self.tty, self.size) {
                (true, Some((w, h))) => {
                    self.say(out, &format!("{h} {w}"));
                    0
                }
                (true, None) => {
                    self.say(out, "0 0");
                    0
                }
                (false, _) => {
                    self.complain(
                        out,
                        "stty: 'standard input': Inappropriate ioctl for device",
                    );
                    1
                }
            },
            [sh, "-c", script, ..] if is_shell(sh) => {
                let (depth, interactive) = (self.depth, self.interactive);
                // a script runs in a child shell: its `exit` ends only it
                self.depth = 1;
                self.interactive = false;
                let status = self.run_script(script, out);
                self.depth = depth;
                self.interactive = interactive;
                status
            }
            [sh] | [sh, "-i"] if is_shell(sh) => {
                if self.depth < MAX_DEPTH {
                    self.depth += 1;
                }
                0
            }
            [cmd, ..] => {
                self.complain(out, &format!("sh: {cmd}: command not found"));
                127
            }
        }
    }

    fn run_script(&mut self, script: &str, out: &mut Vec<Step>) -> i32 {
        let mut status = 0;
        for line in script.lines() {
            status = self.run_line(line, out);
            self.last = status;
            if self.depth == 0 {
                break;
            }
        }
        status
    }

    fn file(&self, path: &str) -> Option<String> {
        Some(match path {
            "/etc/hostname" => format!("{}\n", self.c.pod),
            "/etc/hosts" => format!(
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{}\n",
                self.c.pod
            ),
            "/etc/resolv.conf" => format!(
                "search {}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
                self.c.namespace
            ),
            "/etc/os-release" => "NAME=\"pitwall-sim\"\nID=pitwall-sim\n".to_string(),
            "/app/IMAGE" => format!("{}\n", self.c.image),
            _ => return None,
        })
    }

    fn ls(&self, paths: &[&str], out: &mut Vec<Step>) -> i32 {
        let paths: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| !p.starts_with('-'))
            .collect();
        let paths = if paths.is_empty() { vec!["/"] } else { paths };
        let mut status = 0;
        for p in paths {
            let listing = match p.trim_end_matches('/') {
                "" | "." => "app  bin  dev  etc  home  proc  root  sys  tmp  usr  var",
                "/etc" | "etc" => "hostname  hosts  os-release  resolv.conf",
                "/app" | "app" => "IMAGE",
                "/tmp" | "tmp" | "/home" | "home" | "/root" | "root" => "",
                _ if self.file(p).is_some() => p,
                _ => {
                    self.complain(
                        out,
                        &format!("ls: cannot access '{p}': No such file or directory"),
                    );
                    status = 2;
                    continue;
                }
            };
            if !listing.is_empty() {
                self.say(out, listing);
            }
        }
        status
    }
}

fn is_shell(s: &str) -> bool {
    matches!(s, "sh" | "bash" | "/bin/sh" | "/bin/bash" | "/usr/bin/bash")
}

/// Merge neighbouring output so one keystroke is one frame.
fn coalesce(steps: Vec<Step>) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    for s in steps {
        match (out.last_mut(), s) {
            (Some(Step::Out(a)), Step::Out(b)) => a.extend_from_slice(&b),
            (_, s) => out.push(s),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sep {
    Seq,
    And,
    Or,
}

/// Split a line on `;`, `&&` and `||` outside quotes; each part with the
/// separator before it.
fn split_list(line: &str) -> Vec<(Sep, String)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut sep = Sep::Seq;
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, ';') => {
                parts.push((sep, std::mem::take(&mut cur)));
                sep = Sep::Seq;
            }
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                parts.push((sep, std::mem::take(&mut cur)));
                sep = Sep::And;
            }
            (None, '|') if chars.peek() == Some(&'|') => {
                chars.next();
                parts.push((sep, std::mem::take(&mut cur)));
                sep = Sep::Or;
            }
            (None, '#') if cur.trim().is_empty() || cur.ends_with(' ') => break,
            (None, c) => cur.push(c),
        }
    }
    parts.push((sep, cur));
    parts
}

/// Words of a simple command: quotes removed, `$VAR`, `${VAR}` and `$?`
/// expanded outside single quotes.
fn words(part: &str, last: i32, vars: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = part.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (_, '$') => {
                in_word = true;
                if chars.peek() == Some(&'?') {
                    chars.next();
                    cur.push_str(&last.to_string());
                    continue;
                }
                let braced = chars.peek() == Some(&'{');
                if braced {
                    chars.next();
                }
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if braced && chars.peek() == Some(&'}') {
                    chars.next();
                }
                if name.is_empty() && !braced {
                    cur.push('$');
                } else if let Some((_, v)) = vars.iter().rev().find(|(k, _)| *k == name) {
                    cur.push_str(v);
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (_, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[cfg(test)]
#[path = "shell_tests.rs"]
mod tests;
