//! Windows: the shared poller is an I/O completion port. Posted packets are
//! `PostQueuedCompletionStatus` packets with a null `OVERLAPPED`; completions of
//! overlapped I/O on associated handles come out with their `OVERLAPPED` pointer.
//!
//! Unlike epoll, a handle is associated with one completion port for life, and there is
//! no readiness: callers start overlapped operations and wait for their completion.

use std::io;
use std::os::windows::io::RawHandle;
use std::ptr;
use std::time::Duration;

use windows_sys::Win32::Foundation::{
    CloseHandle, GetHandleInformation, HANDLE, INVALID_HANDLE_VALUE, WAIT_TIMEOUT,
};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatusEx, OVERLAPPED_ENTRY,
    PostQueuedCompletionStatus,
};

use crate::event::{Event, Events};
use crate::poller::{Poller, WAKE_KEY};

/// The raw handle of a poller: a completion port handle.
///
/// # Examples
///
/// See [`Poller::as_raw`] and [`Poller::lookup`].
pub type RawPoller = RawHandle;

/// The backend's event buffer entry.
pub(crate) type RawEvent = OVERLAPPED_ENTRY;

impl Poller {
    /// Associates `handle` (a socket as `RawSocket as RawHandle`, a file, a pipe opened for
    /// overlapped I/O) with this completion port; its completions carry `key`. For life:
    /// Windows cannot move a handle to another port.
    ///
    /// # Errors
    ///
    /// The OS error of `CreateIoCompletionPort` (e.g. the handle is already associated
    /// with a port, or not opened for overlapped I/O).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::windows::io::{AsRawSocket, RawHandle};
    ///
    /// let poller = sock_poll_shared::Poller::new()?;
    /// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// poller.associate(socket.as_raw_socket() as RawHandle, 9)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn associate(&self, handle: RawHandle, key: u64) -> io::Result<()> {
        assert_ne!(key, WAKE_KEY, "sock-poll-shared: key u64::MAX is reserved");
        // SAFETY: plain handles by value; the port is open while `self` lives, and a bad
        // `handle` makes the call fail, it does not corrupt anything.
        let port =
            unsafe { CreateIoCompletionPort(handle as HANDLE, self.port(), key as usize, 0) };
        if port.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn port(&self) -> HANDLE {
        self.inner.sys.port as HANDLE
    }
}

/// The Windows backend state.
pub(crate) struct Sys {
    /// The completion port handle (an address, so `Sys` is `Send + Sync`).
    port: usize,
    /// Whether the port is closed on drop (not for adopted foreign handles).
    owned: bool,
}

impl Sys {
    pub(crate) fn new() -> io::Result<Sys> {
        // SAFETY: INVALID_HANDLE_VALUE with a null existing port asks for a new port.
        let port = unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, ptr::null_mut(), 0, 0) };
        if port.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(Sys {
            port: port as usize,
            owned: true,
        })
    }

    /// Adopts a foreign completion port after checking that it is one.
    ///
    /// # Safety
    ///
    /// `port` stays open while the result lives.
    pub(crate) unsafe fn adopt(port: RawHandle) -> io::Result<Sys> {
        check_open(port)?;
        let sys = Sys {
            port: port as usize,
            owned: false,
        };
        // A wake packet is harmless (it is filtered out of every wait) and only a
        // completion port accepts one.
        if let Err(e) = sys.post(WAKE_KEY) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("handle {port:?} is not an I/O completion port: {e}"),
            ));
        }
        Ok(sys)
    }

    pub(crate) fn raw(&self) -> RawHandle {
        self.port as RawHandle
    }

    pub(crate) fn post(&self, key: u64) -> io::Result<()> {
        // SAFETY: the port is open while `self` lives; a null OVERLAPPED marks the packet
        // as posted.
        let ok = unsafe {
            PostQueuedCompletionStatus(self.port as HANDLE, 0, key as usize, ptr::null())
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let ms = timeout.map_or(u32::MAX, |t| {
            u32::try_from(t.as_millis()).unwrap_or(u32::MAX - 1)
        });
        events.raw.clear();
        let cap = u32::try_from(events.raw.capacity()).unwrap_or(u32::MAX);
        let mut removed = 0u32;
        // SAFETY: the buffer has room for `cap` entries and `removed` is a valid out
        // pointer; the port is open while `self` lives.
        let ok = unsafe {
            GetQueuedCompletionStatusEx(
                self.port as HANDLE,
                events.raw.as_mut_ptr(),
                cap,
                &mut removed,
                ms,
                0,
            )
        };
        if ok == 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(WAIT_TIMEOUT as i32) {
                return Ok(());
            }
            return Err(e);
        }
        // SAFETY: the call initialized the first `removed` entries (at most `cap`).
        unsafe { events.raw.set_len(removed as usize) };
        for entry in &events.raw {
            events.out.push(to_event(entry));
        }
        Ok(())
    }
}

/// One completion entry as a portable event.
fn to_event(entry: &OVERLAPPED_ENTRY) -> Event {
    let key = entry.lpCompletionKey as u64;
    if entry.lpOverlapped.is_null() {
        return Event::posted(key);
    }
    let status = entry.Internal as u32 as i32;
    Event::completed(
        key,
        entry.lpOverlapped as usize,
        entry.dwNumberOfBytesTransferred,
        status,
    )
}

impl Drop for Sys {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: this poller owns the port; it was removed from the registry first.
            unsafe { CloseHandle(self.port as HANDLE) };
        }
    }
}

/// The integer the registry files a raw handle under.
pub(crate) fn raw_key(raw: RawHandle) -> usize {
    raw as usize
}

/// A clear error if `handle` is not open.
pub(crate) fn check_open(handle: RawHandle) -> io::Result<()> {
    let mut flags = 0u32;
    // SAFETY: a handle by value and a valid out pointer; a closed handle only fails.
    let ok = unsafe { GetHandleInformation(handle as HANDLE, &mut flags) };
    if ok == 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("handle {handle:?} is not open (closed, or never was): {e}"),
        ));
    }
    Ok(())
}

/// Completion ports report no readiness.
pub(crate) fn is_readable(_flags: u32) -> bool {
    false
}

/// Completion ports report no readiness.
pub(crate) fn is_writable(_flags: u32) -> bool {
    false
}
