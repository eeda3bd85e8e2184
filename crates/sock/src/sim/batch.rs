//! `Udp::recv_batch`/`send_batch` on a simulated socket: the datagrams one by one
//! through the model, as the OS path does where it has no `recvmmsg`/`sendmmsg`. A
//! batch stops at the first datagram that would block or fails; only a first one's
//! `WouldBlock` or error is the batch's (a later one leaves the batch short, as the
//! kernel's batch calls do).

use super::SimSocket;
use crate::batch::{Datagram, no_address};
use crate::error::{Error, Result};

impl SimSocket {
    /// One try of a batch receive: the datagrams waiting now, into `batch` from the
    /// front (a longer one flagged truncated, not an error).
    pub(crate) fn try_recv_batch(&self, batch: &mut [Datagram]) -> Result<usize> {
        let mut got = 0;
        for d in batch.iter_mut() {
            match self.try_recv_from_flags(&mut d.buf, false, true) {
                Ok((len, from)) => {
                    d.len = len.min(d.buf.len());
                    d.truncated = len > d.buf.len();
                    d.addr = Some(from);
                    got += 1;
                }
                Err(e) if got == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(got)
    }

    /// One try of a batch send: the datagrams of `batch` from the front, each to its
    /// address, while they go.
    pub(crate) fn try_send_batch(&self, batch: &[Datagram]) -> Result<usize> {
        let mut sent = 0;
        for d in batch {
            let r = match &d.addr {
                Some(to) => self.udp_send_to(d.data(), to),
                None => Err(Error::from(no_address())),
            };
            match r {
                Ok(_) => sent += 1,
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(sent)
    }
}
