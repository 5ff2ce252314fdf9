//! The `blackhole` fault at the socket: while the gate is shut, a region's
//! connections neither read nor write (no FIN, no RST), as when the network
//! path to a server dies silently; opening it lets the held bytes flow again,
//! as a healed network would.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::futures::OwnedNotified;
use tokio::sync::Notify;

#[derive(Default)]
pub struct Gate {
    shut: AtomicBool,
    opened: Arc<Notify>,
}

impl Gate {
    pub fn is_shut(&self) -> bool {
        self.shut.load(Ordering::Acquire)
    }

    pub fn set_shut(&self, shut: bool) {
        self.shut.store(shut, Ordering::Release);
        if !shut {
            self.opened.notify_waiters();
        }
    }

    /// Wait until the gate is open.
    pub async fn wait_open(&self) {
        loop {
            let opened = self.opened.clone().notified_owned();
            tokio::pin!(opened);
            opened.as_mut().enable();
            if !self.is_shut() {
                return;
            }
            opened.await;
        }
    }
}

/// A socket that stalls both ways while its gate is shut.
pub struct Gated<T> {
    inner: T,
    gate: Arc<Gate>,
    wait: Option<Pin<Box<OwnedNotified>>>,
}

impl<T> Gated<T> {
    pub fn new(inner: T, gate: Arc<Gate>) -> Gated<T> {
        Gated {
            inner,
            gate,
            wait: None,
        }
    }

    /// Ready when the gate is open; otherwise registers the task to be woken
    /// when it opens.
    fn poll_open(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if !self.gate.is_shut() {
                self.wait = None;
                return Poll::Ready(());
            }
            let wait = self
                .wait
                .get_or_insert_with(|| Box::pin(self.gate.opened.clone().notified_owned()));
            // Enabled before the check below, so an opening in between is not lost.
            wait.as_mut().enable();
            if !self.gate.is_shut() {
                self.wait = None;
                return Poll::Ready(());
            }
            match wait.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // notified: look again (it may have been shut again since)
                Poll::Ready(()) => self.wait = None,
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Gated<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.poll_open(cx).is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Gated<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.poll_open(cx).is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.poll_open(cx).is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.poll_open(cx).is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
