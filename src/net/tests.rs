//! Unit tests of the input buffer that every connection reads through.

use std::collections::VecDeque;

use ureq::unversioned::transport::LazyBuffers;

use super::*;

/// An inner transport that hands out scripted reads, each cut to the room left in its
/// own `IO_BUFFER`, as TCP does.
#[derive(Debug)]
struct Script {
    buffers: LazyBuffers,
    reads: VecDeque<Vec<u8>>,
}

impl Transport for Script {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, _: usize, _: NextTimeout) -> Result<(), ureq::Error> {
        Ok(())
    }

    fn await_input(&mut self, _: NextTimeout) -> Result<bool, ureq::Error> {
        let Some(mut read) = self.reads.pop_front() else {
            return Ok(false);
        };
        let free = self.buffers.input_append_buf();
        let amount = read.len().min(free.len());
        free[..amount].copy_from_slice(&read[..amount]);
        self.buffers.input_appended(amount);
        if amount < read.len() {
            self.reads.push_front(read.split_off(amount));
        }
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        true
    }
}

fn watched(reads: &[&[u8]]) -> Watched<Script> {
    Watched {
        inner: Script {
            buffers: LazyBuffers::new(IO_BUFFER, IO_BUFFER),
            reads: reads.iter().map(|r| r.to_vec()).collect(),
        },
        answered: Arc::new(AtomicBool::new(false)),
        input: Input::default(),
    }
}

/// Reads until the input holds `len` bytes, as ureq does while a head is incomplete.
fn read_until(w: &mut Watched<Script>, len: usize) {
    while w.input().len() < len {
        assert!(w.await_input(NextTimeout::default()).unwrap(), "ran dry");
        w.input_consume(0);
    }
}

#[test]
fn an_ordinary_answer_is_held_in_a_buffer_of_its_own_size() {
    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    let mut w = watched(&[answer]);
    assert!(!w.answered.load(Ordering::SeqCst));
    read_until(&mut w, answer.len());
    assert_eq!(w.input(), answer);
    assert!(w.answered.load(Ordering::SeqCst));
    assert!(w.input.buf.capacity() < 1024, "{}", w.input.buf.capacity());
    // The inner buffer is left empty: nothing can pile up in it.
    assert!(w.inner.buffers().input().is_empty());
}

#[test]
fn a_head_larger_than_the_inner_buffer_is_read_whole_and_then_let_go() {
    let head = vec![b'h'; 3 * IO_BUFFER + 100];
    let mut w = watched(&[&head, b"body"]);
    read_until(&mut w, head.len());
    assert_eq!(w.input(), &head[..]);
    // ureq takes the head; what follows stays, in order.
    w.input_consume(head.len() - 1);
    assert!(w.can_use_input());
    read_until(&mut w, 5);
    assert_eq!(w.input(), b"hbody");
    w.input_consume(5);
    assert!(w.input().is_empty());
    assert_eq!(
        w.input.buf.capacity(),
        0,
        "a large head's buffer is released"
    );
    assert!(!w.can_use_input());
}

#[test]
fn more_than_max_head_that_cannot_be_used_is_refused_not_buffered() {
    let line = vec![b'x'; MAX_HEAD + IO_BUFFER + 1];
    let mut w = watched(&[&line]);
    read_until(&mut w, MAX_HEAD + 1);
    let held = w.input().len();
    assert!(held <= MAX_HEAD + IO_BUFFER, "{held}");
    let e = w.await_input(NextTimeout::default()).unwrap_err();
    assert!(e.to_string().contains("64 KiB"), "{e}");
    assert_eq!(w.input().len(), held);
}
