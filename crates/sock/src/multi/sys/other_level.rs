//! Platforms without a shared-poller socket backend: the poll-level calls, which no
//! socket ever reaches (registering one fails).

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::task::{Context, Poll};

use super::{Dir, SharedIo};
use crate::error::Result;
use crate::multi::claim::Claims;

impl SharedIo {
    pub(crate) fn claims(&self) -> &Claims {
        match self.never {}
    }

    pub(crate) fn poll_ready(&self, _dir: Dir, _cx: &Context<'_>) -> Poll<Result<()>> {
        match self.never {}
    }

    pub(crate) fn poll_readable_dgram(&self, _cx: &Context<'_>) -> Poll<Result<()>> {
        match self.never {}
    }

    pub(crate) fn poll_flush(&self, _cx: &Context<'_>) -> Poll<Result<()>> {
        match self.never {}
    }

    pub(crate) fn poll_recv_uninit(
        &self,
        _cx: &Context<'_>,
        _buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize>> {
        match self.never {}
    }

    pub(crate) fn poll_send_level(&self, _cx: &Context<'_>, _buf: &[u8]) -> Poll<Result<usize>> {
        match self.never {}
    }

    pub(crate) fn poll_send_vectored(
        &self,
        _cx: &Context<'_>,
        _bufs: &[IoSlice<'_>],
    ) -> Poll<Result<usize>> {
        match self.never {}
    }

    pub(crate) fn poll_send_to_level(
        &self,
        _cx: &Context<'_>,
        _buf: &[u8],
        _to: Option<&socket2::SockAddr>,
    ) -> Poll<Result<usize>> {
        match self.never {}
    }

    pub(crate) fn try_recv(&self, _buf: &mut [u8]) -> Result<usize> {
        match self.never {}
    }

    pub(crate) fn try_send(&self, _buf: &[u8]) -> Result<usize> {
        match self.never {}
    }

    pub(crate) fn try_recv_from(&self, _buf: &mut [u8]) -> Result<(usize, socket2::SockAddr)> {
        match self.never {}
    }

    pub(crate) fn try_send_to(
        &self,
        _buf: &[u8],
        _to: Option<&socket2::SockAddr>,
    ) -> Result<usize> {
        match self.never {}
    }
}
