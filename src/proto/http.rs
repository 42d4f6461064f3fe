//! The smallest HTTP/1.1 that fetching an MTA-STS policy needs (RFC 8461
//! §3.3): a client that sends one GET and reads one response, and a server
//! that answers it. Both are machines like the SMTP ones, so an endpoint
//! runs them over real TLS (implicit, as on port 443) and the wire
//! records every byte; message heads (RFC 9112 §2.1) are read by httparse.
//! Requests and responses are bounded: bad input is an error event, never a
//! panic or unbounded memory.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::bytes::Bytes;
use crate::proto::machine::{Machine, Output};
use crate::proto::tls_info::{TlsError, TlsInfo};
use crate::vocab::as_text;

/// Where RFC 8461 §3.3 puts the policy, on host `mta-sts.<domain>`.
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// The most a request head may take (the server closes on more).
const MAX_REQUEST: usize = 8 * 1024;
/// The most a response may take: a policy is a few lines.
const MAX_RESPONSE: usize = 64 * 1024;
/// How long the client waits for a whole response: RFC 8461 §3.3 suggests a minute.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// The most header fields a head may have.
const MAX_HEADERS: usize = 32;

/// What either side of the fetch reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    Failed {
        #[serde(serialize_with = "as_text")]
        reason: FetchError,
    },
}

/// Why the client got no usable response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the response is larger than {} KiB", MAX_RESPONSE / 1024)]
    TooLarge,
    #[error("no complete response within {} s", FETCH_TIMEOUT.as_secs())]
    Timeout,
    #[error("TLS failed: {0}")]
    Tls(Box<TlsError>),
    #[error("the server closed without a response")]
    NoResponse,
    #[error("the response has no end of headers")]
    Incomplete,
    #[error("the response's head is not HTTP/1.1: {0}")]
    Malformed(httparse::Error),
}

/// Where the client is, for traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpClientState {
    Connecting,
    AwaitingResponse,
    Done,
}

impl fmt::Display for HttpClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HttpClientState::Connecting => "connecting",
            HttpClientState::AwaitingResponse => "awaiting response",
            HttpClientState::Done => "done",
        })
    }
}

/// Where the server is, for traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpServerState {
    AwaitingRequest,
    Done,
}

impl fmt::Display for HttpServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HttpServerState::AwaitingRequest => "awaiting request",
            HttpServerState::Done => "done",
        })
    }
}

/// Fetches one resource with GET, then closes.
#[derive(Debug, Clone)]
pub struct HttpClient {
    host: String,
    path: String,
    response: Vec<u8>,
    deadline: Option<Duration>,
    out: Vec<Output<HttpEvent>>,
    done: bool,
}

impl HttpClient {
    pub fn get(host: &str, path: &str) -> HttpClient {
        HttpClient { host: host.to_owned(), path: path.to_owned(), response: Vec::new(), deadline: None, out: Vec::new(), done: false }
    }

    fn finish(&mut self, event: HttpEvent) {
        if !self.done {
            self.done = true;
            self.out.push(Output::Event(event));
            self.out.push(Output::Close);
        }
    }

    fn fail(&mut self, reason: FetchError) {
        self.finish(HttpEvent::Failed { reason });
    }
}

impl Machine for HttpClient {
    type Event = HttpEvent;
    type State = HttpClientState;

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
            return self.fail(FetchError::TooLarge);
        }
        self.response.extend_from_slice(bytes);
    }

    fn handle_timeout(&mut self, now: Duration) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            self.fail(FetchError::Timeout);
        }
    }

    fn poll_timeout(&self) -> Option<Duration> {
        self.deadline.filter(|_| !self.done)
    }

    fn poll_output(&mut self) -> Option<Output<HttpEvent>> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    fn tls_started(&mut self, _info: &TlsInfo, _now: Duration) {}

    fn tls_failed(&mut self, error: &TlsError, _now: Duration) {
        self.fail(FetchError::Tls(Box::new(error.clone())));
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

    fn state(&self) -> HttpClientState {
        match (self.done, self.deadline) {
            (true, _) => HttpClientState::Done,
            (false, Some(_)) => HttpClientState::AwaitingResponse,
            (false, None) => HttpClientState::Connecting,
        }
    }

    fn is_closed(&self) -> bool {
        self.done && self.out.is_empty()
    }
}

/// The value of the header field called `name` (case ignored, RFC 9110 §5.1), as text.
fn header(headers: &[httparse::Header<'_>], name: &str) -> Option<String> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
}

/// Splits a whole response into status, Content-Type and body (RFC 9112 §4, §6).
fn parse_response(bytes: &[u8]) -> Result<(u16, Option<String>, Vec<u8>), FetchError> {
    if bytes.is_empty() {
        return Err(FetchError::NoResponse);
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(bytes).map_err(FetchError::Malformed)? {
        httparse::Status::Partial => Err(FetchError::Incomplete),
        httparse::Status::Complete(end) => {
            let status = response.code.ok_or(FetchError::Incomplete)?;
            Ok((status, header(response.headers, "content-type"), bytes[end..].to_vec()))
        }
    }
}

/// Serves one text document at one path; anything else is 404.
#[derive(Debug, Clone)]
pub struct HttpServer {
    path: String,
    body: String,
    request: Vec<u8>,
    out: Vec<Output<HttpEvent>>,
    done: bool,
}

impl HttpServer {
    pub fn serving(path: &str, body: &str) -> HttpServer {
        HttpServer { path: path.to_owned(), body: body.to_owned(), request: Vec::new(), out: Vec::new(), done: false }
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

impl Machine for HttpServer {
    type Event = HttpEvent;
    type State = HttpServerState;

    fn connected(&mut self, _now: Duration) {}

    fn handle_input(&mut self, bytes: &[u8], _now: Duration) {
        if self.done {
            return;
        }
        self.request.extend_from_slice(bytes);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&self.request) {
            Ok(httparse::Status::Partial) if self.request.len() <= MAX_REQUEST => {}
            Ok(httparse::Status::Partial) => self.respond(431, "Request Header Fields Too Large", ""),
            Err(_) => self.respond(400, "Bad Request", ""),
            Ok(httparse::Status::Complete(_)) => {
                let (method, path) = (request.method.unwrap_or_default().to_owned(), request.path.unwrap_or_default().to_owned());
                let host = header(request.headers, "host");
                self.out.push(Output::Event(HttpEvent::RequestReceived { method: method.clone(), path: path.clone(), host }));
                if method == "GET" && path == self.path {
                    let body = self.body.clone();
                    self.respond(200, "OK", &body);
                } else {
                    self.respond(404, "Not Found", "");
                }
            }
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

    fn tls_failed(&mut self, _error: &TlsError, _now: Duration) {
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

    fn state(&self) -> HttpServerState {
        match self.done {
            true => HttpServerState::Done,
            false => HttpServerState::AwaitingRequest,
        }
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
        let mut server = HttpServer::serving(POLICY_PATH, "version: STSv1\r\n");
        let mut client = HttpClient::get("mta-sts.example.test", POLICY_PATH);
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
        assert_eq!(parse_response(b""), Err(FetchError::NoResponse));
        assert_eq!(parse_response(b"HTTP/1.1 200 OK\r\n"), Err(FetchError::Incomplete));
        assert!(matches!(parse_response(b"SMTP 220 hi\r\n\r\n"), Err(FetchError::Malformed(_))));
        assert_eq!(parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap().0, 404);
        let mut client = HttpClient::get("h", "/");
        client.connected(Duration::ZERO);
        drain(&mut client);
        client.handle_input(&vec![b'x'; MAX_RESPONSE + 1], Duration::ZERO);
        assert!(matches!(drain(&mut client)[0], Output::Event(HttpEvent::Failed { reason: FetchError::TooLarge })));
        let mut late = HttpClient::get("h", "/");
        late.connected(Duration::ZERO);
        late.handle_timeout(FETCH_TIMEOUT);
        assert!(drain(&mut late).iter().any(|o| matches!(o, Output::Event(HttpEvent::Failed { reason: FetchError::Timeout }))));
    }

    #[test]
    fn a_bad_request_is_answered_400_and_a_huge_head_431() {
        let mut server = HttpServer::serving(POLICY_PATH, "");
        server.handle_input(b"GET /\x01 HTTP/1.1\r\n\r\n", Duration::ZERO);
        assert!(drain(&mut server).contains(&Output::Event(HttpEvent::ResponseSent { status: 400 })));
        let mut server = HttpServer::serving(POLICY_PATH, "");
        server.handle_input(format!("GET / HTTP/1.1\r\nX: {}", "y".repeat(MAX_REQUEST)).as_bytes(), Duration::ZERO);
        assert!(drain(&mut server).contains(&Output::Event(HttpEvent::ResponseSent { status: 431 })));
    }
}
