//! A batch of datagrams moved by one call: `sendmmsg`/`recvmmsg` on Linux.
//!
//! The load generator's UDP side must cost less per datagram than the servers it
//! measures, so it sends and receives a batch per syscall. A batch is one buffer cut into
//! equal slots, one datagram each, plus the length of each: no allocation per call. The
//! calls themselves are in `sys/` (elsewhere one datagram per call, same results).

use std::io;

use mio::net::UdpSocket;

use crate::sys;

/// Most datagrams one batch holds (and one call moves).
pub const MAX_BATCH: usize = 64;

/// Up to `capacity` datagrams of at most `slot` bytes each, for one send or receive call.
///
/// # Examples
///
/// ```
/// use mio::net::UdpSocket;
/// use sock_netbench::Datagrams;
///
/// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// a.connect(b.local_addr().unwrap()).unwrap();
///
/// let mut outgoing = Datagrams::new(4, 8);
/// outgoing.push(3).copy_from_slice(b"one");
/// outgoing.push(3).copy_from_slice(b"two");
/// assert_eq!(outgoing.send_from(&a, 0).unwrap(), 2);
///
/// let mut incoming = Datagrams::new(4, 8);
/// let mut received = 0;
/// for _ in 0..1000 {
///     match incoming.recv(&b) {
///         Ok(n) => received += n,
///         Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
///         Err(err) => panic!("{err}"),
///     }
///     if received == 2 {
///         break;
///     }
///     std::thread::sleep(std::time::Duration::from_millis(1));
/// }
/// assert_eq!(received, 2);
/// assert_eq!(incoming.get(incoming.len() - 1), b"two");
/// ```
#[derive(Debug, Clone)]
pub struct Datagrams {
    /// `capacity` slots of `slot` bytes, back to back.
    bytes: Vec<u8>,
    /// Bytes per slot: the longest datagram held.
    slot: usize,
    /// Length of every slot, only the first `held` meaningful.
    lens: Vec<usize>,
    /// How many datagrams the batch holds, from slot 0.
    held: usize,
}

impl Datagrams {
    /// An empty batch of `capacity` slots of `slot` bytes.
    ///
    /// # Panics
    ///
    /// When `capacity` is 0 or above [`MAX_BATCH`], or `slot` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let batch = sock_netbench::Datagrams::new(32, 65);
    /// assert_eq!(batch.capacity(), 32);
    /// assert!(batch.is_empty());
    /// ```
    pub fn new(capacity: usize, slot: usize) -> Self {
        assert!(
            (1..=MAX_BATCH).contains(&capacity),
            "a batch holds 1..={MAX_BATCH} datagrams"
        );
        assert!(slot > 0, "a datagram slot needs at least one byte");
        Self {
            bytes: vec![0; capacity * slot],
            slot,
            lens: vec![0; capacity],
            held: 0,
        }
    }

    /// How many datagrams the batch can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock_netbench::Datagrams::new(8, 64).capacity(), 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.lens.len()
    }

    /// How many datagrams it holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sock_netbench::Datagrams::new(8, 64);
    /// batch.push(10);
    /// assert_eq!(batch.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.held
    }

    /// Whether it holds none.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sock_netbench::Datagrams::new(8, 64).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Whether it holds `capacity` datagrams.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sock_netbench::Datagrams::new(1, 64);
    /// batch.push(64);
    /// assert!(batch.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.held == self.capacity()
    }

    /// Empties the batch (the bytes stay allocated).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sock_netbench::Datagrams::new(8, 64);
    /// batch.push(1);
    /// batch.clear();
    /// assert!(batch.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.held = 0;
    }

    /// Adds a datagram of `len` bytes and returns them to be filled in.
    ///
    /// # Panics
    ///
    /// When the batch is full or `len` is longer than a slot.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sock_netbench::Datagrams::new(8, 64);
    /// batch.push(5).copy_from_slice(b"hello");
    /// assert_eq!(batch.get(0), b"hello");
    /// ```
    pub fn push(&mut self, len: usize) -> &mut [u8] {
        assert!(!self.is_full(), "the batch is full");
        assert!(len <= self.slot, "a datagram longer than its slot");
        let index = self.held;
        self.lens[index] = len;
        self.held += 1;
        let start = index * self.slot;
        &mut self.bytes[start..start + len]
    }

    /// The datagram at `index`.
    ///
    /// # Panics
    ///
    /// When `index` is not below [`len`](Self::len).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = sock_netbench::Datagrams::new(8, 64);
    /// batch.push(2).copy_from_slice(b"hi");
    /// assert_eq!(batch.get(0), b"hi");
    /// ```
    pub fn get(&self, index: usize) -> &[u8] {
        assert!(index < self.held, "no datagram {index} in the batch");
        let start = index * self.slot;
        &self.bytes[start..start + self.lens[index]]
    }

    /// Sends the datagrams from `first` on through the connected `socket` in one call
    /// (`sendmmsg(2)` on Linux) and returns how many went; fewer than asked means the
    /// next one could not go now. The batch is left as it is.
    ///
    /// # Errors
    ///
    /// When not even the first could be sent (`WouldBlock` when the socket buffer is full).
    ///
    /// # Panics
    ///
    /// When `first` is not below [`len`](Self::len).
    ///
    /// # Examples
    ///
    /// See [`Datagrams`].
    pub fn send_from(&self, socket: &UdpSocket, first: usize) -> io::Result<usize> {
        assert!(first < self.held, "nothing to send from {first}");
        let start = first * self.slot;
        let bytes = &self.bytes[start..self.held * self.slot];
        sys::send_datagrams(socket, bytes, self.slot, &self.lens[first..self.held])
    }

    /// Sends the datagrams from `first` on, all a slot long, through `socket` as one buffer
    /// that the kernel cuts into datagrams: `socket` must have had
    /// [`set_segment_size`](Self::set_segment_size) with this batch's slot. Returns how
    /// many went: all of them, or an error.
    ///
    /// # Errors
    ///
    /// When the buffer could not be sent (`WouldBlock` when the socket buffer is full).
    ///
    /// # Panics
    ///
    /// When `first` is not below [`len`](Self::len) or a datagram is shorter than a slot.
    pub fn send_segmented(&self, socket: &UdpSocket, first: usize) -> io::Result<usize> {
        assert!(first < self.held, "nothing to send from {first}");
        let lens = &self.lens[first..self.held];
        assert!(lens.iter().all(|&len| len == self.slot), "short datagram");
        let sent = socket.send(&self.bytes[first * self.slot..self.held * self.slot])?;
        Ok(sent / self.slot)
    }

    /// Sets `socket` up for [`send_segmented`](Self::send_segmented) from batches with
    /// `slot`-byte slots (`UDP_SEGMENT`, Linux only).
    ///
    /// # Errors
    ///
    /// When the OS has no UDP segmentation offload.
    pub fn set_segment_size(socket: &UdpSocket, slot: usize) -> io::Result<()> {
        sys::set_segment_size(socket, slot)
    }

    /// Replaces the contents with the datagrams waiting on `socket`, up to `capacity`, in
    /// one call (`recvmmsg(2)` on Linux), and returns how many came. A datagram longer than
    /// a slot is cut to the slot.
    ///
    /// # Errors
    ///
    /// When none was waiting (`WouldBlock`) or the socket failed; the batch is then empty.
    ///
    /// # Examples
    ///
    /// See [`Datagrams`].
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.held = 0;
        let count = sys::recv_datagrams(socket, &mut self.bytes, self.slot, &mut self.lens)?;
        self.held = count;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_keep_their_own_lengths() {
        let mut batch = Datagrams::new(3, 4);
        batch.push(4).copy_from_slice(b"abcd");
        batch.push(1).copy_from_slice(b"e");
        assert_eq!((batch.get(0), batch.get(1)), (&b"abcd"[..], &b"e"[..]));
        batch.clear();
        batch.push(2).copy_from_slice(b"fg");
        assert_eq!((batch.len(), batch.get(0)), (1, &b"fg"[..]));
    }

    #[test]
    #[should_panic(expected = "longer than its slot")]
    fn a_datagram_longer_than_a_slot_panics() {
        Datagrams::new(1, 4).push(5);
    }
}
