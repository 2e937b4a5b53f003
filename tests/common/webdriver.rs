//! W3C WebDriver over HTTP to chromedriver driving real headless Chromium: the browser tests' driver.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// W3C's key for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    rt: tokio::runtime::Handle,
    session: Option<String>,
    _profile: tempfile::TempDir,
}

impl Driver {
    pub fn start(rt: tokio::runtime::Handle) -> Driver {
        // A free port: bind :0, read it, release it for chromedriver.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt-get install chromium-driver)");
        let mut d = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            rt,
            session: None,
            _profile: tempfile::tempdir().unwrap(),
        };
        crate::common::wait_until("chromedriver ready", Duration::from_secs(30), || {
            d.rt.block_on(async {
                match d.http.get(format!("{}/status", d.base)).send().await {
                    Ok(r) => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v["value"]["ready"] == true),
                    Err(_) => false,
                }
            })
        });
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--disable-dev-shm-usage",
                            format!("--user-data-dir={}", d._profile.path().display()),
                        ]
                    }
                }
            }
        });
        let v = d.call("POST", "/session", Some(caps));
        d.session = Some(
            v["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("new session: {v}"))
                .to_string(),
        );
        d
    }

    /// One WebDriver command; returns `value`.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// One WebDriver call; an error answer is returned as its text.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let rb = match method {
                "GET" => self.http.get(&url),
                "DELETE" => self.http.delete(&url),
                _ => self.http.post(&url).json(&body.unwrap_or(json!({}))),
            };
            let resp = rb.send().await.unwrap();
            let status = resp.status();
            let v: Value = resp.json().await.unwrap();
            if status.is_success() {
                Ok(v["value"].clone())
            } else {
                Err(format!("{method} {path}: {status} {v}"))
            }
        })
    }

    /// Runs an element call on the element `css` names; when a page script replaced that element
    /// between finding and using it ("stale element reference"), finds it again, until a deadline.
    fn on_element(&self, css: &str, method: &str, rest: &str, body: Option<Value>) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let id = self.wait_for(css);
            match self.try_call(
                method,
                &self.s(&format!("/element/{id}{rest}")),
                body.clone(),
            ) {
                Ok(v) => return v,
                Err(e) if e.contains("stale element") && std::time::Instant::now() < deadline => {}
                Err(e) => panic!("{e}"),
            }
        }
    }

    pub fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session.as_deref().unwrap())
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    pub fn current_url(&self) -> String {
        self.call("GET", &self.s("/url"), None)
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn find(&self, css: &str) -> Option<String> {
        let v = self.rt.block_on(async {
            self.http
                .post(format!("{}{}", self.base, self.s("/elements")))
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        });
        v["value"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|e| e[ELEMENT].as_str())
            .map(str::to_string)
    }

    /// Waits for an element (the page after a form submit) and returns its id.
    pub fn wait_for(&self, css: &str) -> String {
        let mut found = None;
        crate::common::wait_until(&format!("element {css}"), Duration::from_secs(30), || {
            found = self.find(css);
            found.is_some()
        });
        found.unwrap()
    }

    pub fn click(&self, css: &str) {
        self.on_element(css, "POST", "/click", None);
    }

    pub fn text(&self, css: &str) -> String {
        self.on_element(css, "GET", "/text", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Types `text` into the element (WebDriver "Element Send Keys").
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.wait_for(css);
        self.call(
            "POST",
            &self.s(&format!("/element/{id}/value")),
            Some(json!({ "text": text })),
        );
    }

    /// Runs an async script in the page (`arguments[0]` is the callback); returns its value.
    pub fn execute_async(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.s("/execute/async"),
            Some(json!({ "script": script, "args": [] })),
        )
    }

    pub fn page_source(&self) -> String {
        self.call("GET", &self.s("/source"), None)
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if self.session.is_some() {
            let path = self.s("");
            let url = format!("{}{path}", self.base);
            let _ = self
                .rt
                .block_on(async { self.http.delete(&url).send().await });
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
