//! The reference y-websocket server from npm (`@y/websocket-server`), started as a child
//! process on a free loopback port so it can be measured side by side with ours.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::server::pinned;

pub struct ReferenceServer {
    /// `ws://127.0.0.1:PORT`; a room is `{base}/{room}`.
    pub base: String,
    pub pid: u32,
    child: Child,
}

impl ReferenceServer {
    /// Starts `node node_modules/@y/websocket-server/src/server.js` from `npm_dir`, in
    /// memory only (no persistence configured), on `cpus` only if given.
    pub async fn start(npm_dir: &Path, cpus: Option<&str>) -> anyhow::Result<ReferenceServer> {
        let script = npm_dir.join("node_modules/@y/websocket-server/src/server.js");
        if !script.exists() {
            bail!(
                "{} is missing: run `npm i yjs@13.6.33 y-websocket@3.1.0 ws@8.23.0 @y/websocket-server@0.1.1` in {}",
                script.display(),
                npm_dir.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = pinned("node", cpus)
            .arg(&script)
            .current_dir(npm_dir)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .spawn()
            .context("starting node (is Node.js installed?)")?;
        let server = ReferenceServer {
            base: format!("ws://127.0.0.1:{port}"),
            pid: child.id(),
            child,
        };
        wait_listening(port).await?;
        Ok(server)
    }
}

async fn wait_listening(port: u16) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the reference server did not listen within 10 s")
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
