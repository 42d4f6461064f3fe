//! The smallest HTTP/1.1 that fetching an MTA-STS policy needs (RFC 8461
//! §3.3): a client that sends one GET and reads one response, and a server
//! that answers it. Both are machines like the SMTP ones, so the session
//! layer runs them over real TLS (implicit, as on port 443) and the wire
//! records every byte. Requests and responses are bounded: bad input is an
//! error event, never a panic or unbounded memory.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bytes::Bytes;
use crate::machine::{Machine, Output};
use crate::tls_info::TlsInfo;

/// Where RFC 8461 §3.3 puts the policy, on host `mta-sts.<domain>`.
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// The most a request head may take (the server closes on more).
const MAX_REQUEST: usize = 8 * 1024;
/// The most a response may take: a policy is a few lines.
const MAX_RESPONSE: usize = 64 * 1024;
/// How long the client waits for a whole response: RFC 8461 §3.3 suggests a minute.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// What either side of the fetch reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HttpEvent {
    /// The client sent its request line.
    RequestSent { request: String },
    /// The server read a request.
    RequestReceived { method: String, path: String, host: Option<String> },
    /// The server answered with this status.
    ResponseSent { status: u16 },
    /// The client read a whole response.
    ResponseReceived { status: u16, content_type: Option<String>, body: Bytes },
    /// The fetch failed: no response, a malformed one, or one too large.
    Failed { reason: String },
}

/// Fetches one resource with GET, then closes.
#[derive(Debug, Clone)]
pub struct HttpsClient {
    host: String,
    path: String,
    response: Vec<u8>,
    deadline: Option<Duration>,
    out: Vec<Output<HttpEvent>>,
    done: bool,
}

impl HttpsClient {
    pub fn get(host: &str, path: &str) -> HttpsClient {
        HttpsClient { host: host.to_owned(), path: path.to_owned(), response: Vec::new(), deadline: None, out: Vec::new(), done: false }
    }

    fn finish(&mut self, event: HttpEvent) {
        if !self.done {
            self.done = true;
            self.out.push(Output::Event(event));
            self.out.push(Output::Close);
        }
    }

    fn fail(&mut self, reason: impl Into<String>) {
        self.finish(HttpEvent::Failed { reason: reason.into() });
    }
}

impl Machine for HttpsClient {
    type Event = HttpEvent;

    fn connected(&mut self, now: Duration) {
        // HTTP/1.1 with "Connection: close" (RFC 9112 §9.6): the response ends when the server closes.
        let request = format!("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.path, self.host);
        self.out.push(Output::Event(HttpEvent::RequestSent { request: format!("GET https://{}{}", self.host, self.path) }));
        self.out.push(Output::Send(request.into_bytes()));
        self.deadline = Some(now + FETCH_TIMEOUT);
    }

    fn handle_input(&mut self, bytes: &[u8], _now: Duration) {
        if self.done {
            return;
        }
        if self.response.len() + bytes.len() > MAX_RESPONSE {
            return self.fail(format!("the response is larger than {} KiB", MAX_RESPONSE / 1024));
        }
        self.response.extend_from_slice(bytes);
    }

    fn handle_timeout(&mut self, now: Duration) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            self.fail(format!("no complete response within {} s", FETCH_TIMEOUT.as_secs()));
        }
    }

    fn poll_timeout(&self) -> Option<Duration> {
        self.deadline.filter(|_| !self.done)
    }

    fn poll_output(&mut self) -> Option<Output<HttpEvent>> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    fn tls_started(&mut self, _info: &TlsInfo, _now: Duration) {}

    fn tls_failed(&mut self, error: &str, _now: Duration) {
        self.fail(format!("TLS failed: {error}"));
    }

    fn peer_closed(&mut self, _now: Duration) {
        if self.done {
            return;
        }
        match parse_response(&self.response) {
            Ok((status, content_type, body)) => {
                self.finish(HttpEvent::ResponseReceived { status, content_type, body: Bytes(body) });
            }
            Err(why) => self.fail(why),
        }
    }

    fn take_buffered_input(&mut self) -> Vec<u8> {
        Vec::new()
    }

    fn state_name(&self) -> String {
        match (self.done, self.deadline) {
            (true, _) => "done",
            (false, Some(_)) => "awaiting response",
            (false, None) => "connecting",
        }
        .to_owned()
    }

    fn is_closed(&self) -> bool {
        self.done && self.out.is_empty()
    }
}

/// Splits a response into status, Content-Type and body (RFC 9112 §4, §6).
fn parse_response(bytes: &[u8]) -> Result<(u16, Option<String>, Vec<u8>), String> {
    if bytes.is_empty() {
        return Err("the server closed without a response".into());
    }
    let end = find(bytes, b"\r\n\r\n").ok_or("the response has no end of headers")?;
    let head = std::str::from_utf8(&bytes[..end]).map_err(|_| "the response headers are not text")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP status line: {status_line:?}"))?;
    Ok((status, header(lines, "content-type"), bytes[end + 4..].to_vec()))
}

/// The value of the first header field called `name` (case ignored, RFC 9110 §5.1) among `lines`.
fn header<'a>(lines: impl Iterator<Item = &'a str>, name: &str) -> Option<String> {
    lines.filter_map(|l| l.split_once(':')).find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Serves one text document at one path; anything else is 404.
#[derive(Debug, Clone)]
pub struct HttpsServer {
    path: String,
    body: String,
    request: Vec<u8>,
    out: Vec<Output<HttpEvent>>,
    done: bool,
}

impl HttpsServer {
    pub fn serving(path: &str, body: &str) -> HttpsServer {
        HttpsServer { path: path.to_owned(), body: body.to_owned(), request: Vec::new(), out: Vec::new(), done: false }
    }

    fn respond(&mut self, status: u16, reason: &str, body: &str) {
        self.out.push(Output::Event(HttpEvent::ResponseSent { status }));
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        self.out.push(Output::Send(response.into_bytes()));
        self.out.push(Output::Close);
        self.done = true;
    }
}

impl Machine for HttpsServer {
    type Event = HttpEvent;

    fn connected(&mut self, _now: Duration) {}

    fn handle_input(&mut self, bytes: &[u8], _now: Duration) {
        if self.done {
            return;
        }
        self.request.extend_from_slice(bytes);
        let Some(end) = find(&self.request, b"\r\n\r\n") else {
            if self.request.len() > MAX_REQUEST {
                self.respond(431, "Request Header Fields Too Large", "");
            }
            return;
        };
        let head = String::from_utf8_lossy(&self.request[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut parts = lines.next().unwrap_or_default().split(' ');
        let (method, path) = (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
        let host = header(lines, "host");
        self.out.push(Output::Event(HttpEvent::RequestReceived { method: method.clone(), path: path.clone(), host }));
        if method == "GET" && path == self.path {
            let body = self.body.clone();
            self.respond(200, "OK", &body);
        } else {
            self.respond(404, "Not Found", "");
        }
    }

    fn handle_timeout(&mut self, _now: Duration) {}

    fn poll_timeout(&self) -> Option<Duration> {
        None
    }

    fn poll_output(&mut self) -> Option<Output<HttpEvent>> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    fn tls_started(&mut self, _info: &TlsInfo, _now: Duration) {}

    fn tls_failed(&mut self, _error: &str, _now: Duration) {
        self.done = true;
    }

    fn peer_closed(&mut self, _now: Duration) {
        if !self.done {
            self.done = true;
            self.out.push(Output::Close);
        }
    }

    fn take_buffered_input(&mut self) -> Vec<u8> {
        Vec::new()
    }

    fn state_name(&self) -> String {
        if self.done { "done" } else { "awaiting request" }.to_owned()
    }

    fn is_closed(&self) -> bool {
        self.done && self.out.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<M: Machine>(m: &mut M) -> Vec<Output<M::Event>> {
        std::iter::from_fn(|| m.poll_output()).collect()
    }

    /// The bytes among a machine's outputs.
    fn sent<E>(out: &[Output<E>]) -> Vec<u8> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send(b) => Some(b.as_slice()),
                _ => None,
            })
            .flatten()
            .copied()
            .collect()
    }

    #[test]
    fn a_get_and_its_response_in_any_chunking() {
        let mut server = HttpsServer::serving(POLICY_PATH, "version: STSv1\r\n");
        let mut client = HttpsClient::get("mta-sts.example.test", POLICY_PATH);
        client.connected(Duration::ZERO);
        let request = sent(&drain(&mut client));
        for chunk in request.chunks(3) {
            server.handle_input(chunk, Duration::ZERO);
        }
        let out = drain(&mut server);
        assert!(out.contains(&Output::Event(HttpEvent::RequestReceived {
            method: "GET".into(),
            path: POLICY_PATH.into(),
            host: Some("mta-sts.example.test".into())
        })));
        let response = sent(&out);
        for chunk in response.chunks(5) {
            client.handle_input(chunk, Duration::ZERO);
        }
        client.peer_closed(Duration::ZERO);
        let events = drain(&mut client);
        assert!(events.contains(&Output::Event(HttpEvent::ResponseReceived {
            status: 200,
            content_type: Some("text/plain".into()),
            body: Bytes(b"version: STSv1\r\n".to_vec())
        })));
    }

    #[test]
    fn bad_responses_are_errors() {
        assert!(parse_response(b"").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"SMTP 220 hi\r\n\r\n").is_err());
        assert_eq!(parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap().0, 404);
        let mut client = HttpsClient::get("h", "/");
        client.connected(Duration::ZERO);
        drain(&mut client);
        client.handle_input(&vec![b'x'; MAX_RESPONSE + 1], Duration::ZERO);
        assert!(matches!(drain(&mut client)[0], Output::Event(HttpEvent::Failed { .. })));
        let mut late = HttpsClient::get("h", "/");
        late.connected(Duration::ZERO);
        late.handle_timeout(FETCH_TIMEOUT);
        assert!(drain(&mut late).iter().any(|o| matches!(o, Output::Event(HttpEvent::Failed { .. }))));
    }
}
