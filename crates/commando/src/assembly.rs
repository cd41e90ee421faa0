//! One text being put back together from its chunks, under a byte cap that holds for the
//! memory used, not only for the length: both the server's requests and the client's replies
//! are assembled here.

/// The bytes of one request or reply received so far.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    json: Vec<u8>,
    oversize: bool,
}

impl Assembly {
    /// Appends `bytes` unless the text would pass `max` bytes. Past the cap the text is
    /// marked oversize and its buffer freed at once: the rest of it can only be refused, so
    /// holding it would let a peer pin memory for nothing.
    pub(crate) fn push(&mut self, bytes: &[u8], max: usize) {
        if self.oversize {
            return;
        }
        let len = self.json.len().saturating_add(bytes.len());
        if len > max {
            self.oversize = true;
            self.json = Vec::new();
            return;
        }
        if len > self.json.capacity() {
            // Vec's own growth would double past the cap (a 1 MiB request could hold 2 MiB);
            // grow geometrically, so a request of many small chunks still copies each byte a
            // bounded number of times, but never beyond `max`.
            let target = len.max(self.json.capacity().saturating_mul(2)).min(max);
            self.json.reserve_exact(target - self.json.len());
        }
        self.json.extend_from_slice(bytes);
    }

    /// Whether the text went past its cap.
    pub(crate) fn is_oversize(&self) -> bool {
        self.oversize
    }

    /// The memory held, in bytes.
    pub(crate) fn capacity(&self) -> usize {
        self.json.capacity()
    }

    /// The text, if it stayed within its cap.
    pub(crate) fn finish(self) -> Option<Vec<u8>> {
        (!self.oversize).then_some(self.json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_inclusive_and_bounds_memory() {
        let mut assembly = Assembly::default();
        for _ in 0..10 {
            assembly.push(&[7; 100], 1000);
            assert!(assembly.capacity() <= 1000);
        }
        assert!(!assembly.is_oversize());
        assert_eq!(assembly.finish(), Some(vec![7; 1000]));

        let mut assembly = Assembly::default();
        assembly.push(&[7; 1000], 1000);
        assembly.push(&[], 1000);
        assert!(!assembly.is_oversize(), "an empty chunk adds nothing");
        assembly.push(&[7], 1000);
        assert!(assembly.is_oversize());
        assert_eq!(assembly.capacity(), 0, "freed as soon as it is refused");
        assembly.push(&[7], 1000);
        assert_eq!(assembly.capacity(), 0, "and never refilled");
        assert_eq!(assembly.finish(), None);
    }
}
