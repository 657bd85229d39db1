package ordered

// Buffer holds results that arrived ahead of their turn. Items are numbered 0, 1, 2, … in input order;
// Put releases every item whose predecessors have all been released. Not safe for concurrent use: one
// goroutine (the merge) owns it.
type Buffer[T any] struct {
	pending map[int]T
	next    int
}

// Put adds item seq and calls emit, in order, for it and every waiting item that now follows without a gap.
// The first error from emit stops the release and is returned.
func (b *Buffer[T]) Put(seq int, item T, emit func(T) error) error {
	if b.pending == nil {
		b.pending = map[int]T{}
	}
	b.pending[seq] = item
	for {
		v, ok := b.pending[b.next]
		if !ok {
			return nil
		}
		delete(b.pending, b.next)
		b.next++
		if err := emit(v); err != nil {
			return err
		}
	}
}

// Waiting is the number of items held back because an earlier one has not arrived.
func (b *Buffer[T]) Waiting() int { return len(b.pending) }
