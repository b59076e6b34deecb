package auditlog

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/resellerconsole/reseller/internal/auditlog/internal/tree"
	"golang.org/x/mod/sumdb/tlog"
)

// Verifying a bundle is dominated by per-entry work that needs no order:
// parsing the entry, checking the record's canonical form, hashing it and
// its path. runEntries spreads that over every core. Finding where each
// entry ends is the one sequential part, so it is made cheap: bundle.Write
// puts one entry per line, and a newline can only be whitespace in JSON
// (never inside a string), so one goroutine cuts the input at newlines and
// workers parse the lines. The first line that is not exactly one entry
// (the end of the array, or a bundle laid out differently) switches to an
// ordinary sequential parse of the rest of the input, so any valid JSON
// layout verifies, only the writer's own layout fast. A fixed set of
// recycled batches keeps memory flat whatever the bundle's size.

const (
	batchLines = 256
	batchBytes = 1 << 20
	maxLine    = 1 << 20 // longer lines are cut and parsed the slow way
)

// jsonSpace is JSON's whitespace; Unicode's other spaces are not.
const jsonSpace = " \t\r\n"

type lineKind uint8

const (
	lineOther lineKind = iota // not exactly one entry
	lineBlank
	lineEntry
)

// entryItem is one line, or one entry, as the workers leave it.
type entryItem struct {
	start, end int // the line in the batch's raw, without its newline
	offset     int64
	kind       lineKind
	comma      bool  // an entry line ends with a comma
	err        error // the entry is not valid JSON of an entry
	seq        int64
	rec        [2]int // the record bytes, in the batch's recs
	proof      [2]int // the carried hashes, in the batch's proofs
	nodes      [2]int // in the batch's nodes: hashes from the leaf up, one per carried sibling
	pathLen    int    // steps from the root to the entry's leaf
	leaf       tlog.Hash
	account    int64 // as the record says
	recSeq     int64 // as the record says
	recErr     error // the record is not canonical
	legacy     bool  // the record is a legacy record (CheckLegacy)
}

type entryBatch struct {
	raw    []byte // consecutive input lines, newlines included
	offset int64  // input offset of raw[0]
	items  []entryItem
	recs   []byte
	proofs []tlog.Hash
	nodes  []tlog.Hash
	steps  []tree.Step
	eof    bool  // the input ends after this batch
	err    error // reading failed after this batch
	done   chan struct{}
}

type checkFunc func(it *entryItem, rec []byte, carried, nodes []tlog.Hash) error

// runEntries reads the elements of the entries array (its '[' consumed)
// and the end of the document, calling check for each entry in order.
func runEntries(sr *streamReader, size int64, check checkFunc) error {
	workers := runtime.GOMAXPROCS(0)
	n := 2*workers + 2
	free := make(chan *entryBatch, n)
	work := make(chan *entryBatch, n)
	order := make(chan *entryBatch, n)
	stop := make(chan struct{})
	var slow atomic.Bool // the workers' results are no longer used
	for range n {
		free <- &entryBatch{}
	}
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(order)
		readLines(sr, free, work, order, stop)
	}()
	for range workers {
		go func() {
			defer wg.Done()
			for b := range work {
				if !slow.Load() {
					b.processLines(size)
				}
				close(b.done)
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	state := afterOpen
	for b := range order {
		<-b.done
		for i := range b.items {
			it := &b.items[i]
			if it.kind == lineBlank {
				continue
			}
			if it.kind == lineOther || state == afterValue {
				slow.Store(true)
				bs := &batchStream{cur: b, pos: it.start, order: order, free: free}
				return parseRest(bs, b.offset+int64(it.start), state, size, check)
			}
			if err := check(it, b.recs[it.rec[0]:it.rec[1]], b.proofs[it.proof[0]:it.proof[1]], b.nodes[it.nodes[0]:it.nodes[1]]); err != nil {
				return err
			}
			state = afterValue
			if it.comma {
				state = afterComma
			}
		}
		if b.err != nil {
			return fmt.Errorf("reading the bundle: %w", b.err)
		}
		if b.eof {
			return errTruncated
		}
		free <- b
	}
	return errTruncated
}

func readLines(sr *streamReader, free, work, order chan *entryBatch, stop chan struct{}) {
	for {
		var b *entryBatch
		select {
		case b = <-free:
		case <-stop:
			return
		}
		b.raw, b.items, b.offset = b.raw[:0], b.items[:0], sr.Offset()
		b.eof, b.err, b.done = false, nil, make(chan struct{})
		for len(b.items) < batchLines && len(b.raw) < batchBytes {
			start := len(b.raw)
			var err error
			b.raw, err = sr.line(b.raw, maxLine)
			if end := len(b.raw); end > start {
				if b.raw[end-1] == '\n' {
					end--
				}
				b.items = append(b.items, entryItem{start: start, end: end, offset: b.offset + int64(start)})
			}
			if err == io.EOF {
				b.eof = true
			} else if err != nil {
				b.err = err
			}
			if err != nil {
				break
			}
		}
		select {
		case order <- b:
		case <-stop:
			return
		}
		select {
		case work <- b:
		case <-stop:
			return
		}
		if b.eof || b.err != nil {
			return
		}
	}
}

// processLines prepares each line that holds exactly one entry.
func (b *entryBatch) processLines(size int64) {
	b.recs, b.proofs, b.nodes = b.recs[:0], b.proofs[:0], b.nodes[:0]
	for i := range b.items {
		it := &b.items[i]
		line := bytes.Trim(b.raw[it.start:it.end], jsonSpace)
		if len(line) == 0 {
			it.kind = lineBlank
			continue
		}
		if it.comma = line[len(line)-1] == ','; it.comma {
			line = bytes.TrimRight(line[:len(line)-1], jsonSpace)
		}
		if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
			continue // lineOther
		}
		if b.prepare(it, line, size); it.err != nil {
			it.kind = lineOther // the sequential parse will say what is wrong
			continue
		}
		it.kind = lineEntry
	}
}

// prepare parses an entry, checks its record, and hashes its leaf and its
// path up through the siblings it carries.
func (b *entryBatch) prepare(it *entryItem, raw []byte, size int64) {
	r0, p0 := len(b.recs), len(b.proofs)
	it.seq, b.recs, b.proofs, it.err = parseEntry(raw, b.recs, b.proofs)
	it.rec, it.proof, it.nodes = [2]int{r0, len(b.recs)}, [2]int{p0, len(b.proofs)}, [2]int{}
	if it.err != nil {
		return
	}
	rec := b.recs[r0:]
	it.account, it.recSeq, it.recErr = CheckCanonical(rec)
	it.legacy = false
	if it.recErr != nil {
		if a, s, ok := CheckLegacy(rec); ok {
			it.account, it.recSeq, it.recErr, it.legacy = a, s, nil, true
		}
	}
	it.leaf = tlog.RecordHash(rec)
	if it.seq < 1 || it.seq > size {
		return
	}
	b.steps = tree.PathSteps(b.steps[:0], it.seq-1, size)
	l, carried := len(b.steps), b.proofs[p0:]
	it.pathLen = l
	if len(carried) > l {
		return
	}
	n0 := len(b.nodes)
	h := it.leaf
	b.nodes = append(b.nodes, h)
	for k, sib := range carried {
		if b.steps[l-1-k].Left {
			h = tlog.NodeHash(sib, h)
		} else {
			h = tlog.NodeHash(h, sib)
		}
		b.nodes = append(b.nodes, h)
	}
	it.nodes = [2]int{n0, len(b.nodes)}
}

// Where the sequential parse resumes within the entries array.
const (
	afterOpen  = iota // after '[': an entry or ']'
	afterComma        // an entry
	afterValue        // ',' or ']'
)

// parseRest verifies the rest of the entries array and the end of the
// document sequentially, reading the input from the batches on.
func parseRest(bs *batchStream, offset int64, state int, size int64, check checkFunc) error {
	sr := newStreamReader(bs)
	sr.offset = offset
	var b entryBatch
	var raw []byte
	for {
		c, err := sr.peek()
		if err != nil {
			return err
		}
		switch {
		case c == ']' && state == afterComma:
			return fmt.Errorf("malformed JSON at byte %d: an entry must follow a comma", sr.Offset())
		case c == ']':
			sr.pos++
			return finishBundle(sr)
		case state == afterValue && c == ',':
			sr.pos++
			state = afterComma
			continue
		case state == afterValue:
			return fmt.Errorf("malformed JSON at byte %d: want ',' or ']' after an entry, found %q", sr.Offset(), c)
		}
		b.recs, b.proofs, b.nodes = b.recs[:0], b.proofs[:0], b.nodes[:0]
		it := entryItem{offset: sr.Offset()}
		if raw, err = sr.rawValue(raw[:0]); err != nil {
			return err
		}
		b.prepare(&it, raw, size)
		if err := check(&it, b.recs[it.rec[0]:it.rec[1]], b.proofs[it.proof[0]:it.proof[1]], b.nodes[it.nodes[0]:it.nodes[1]]); err != nil {
			return err
		}
		state = afterValue
	}
}

// batchStream reads the input again from the batches the line reader cut,
// from one byte of one batch on, recycling each once read.
type batchStream struct {
	cur   *entryBatch
	pos   int
	order chan *entryBatch
	free  chan *entryBatch
}

// Read implements io.Reader over the batches' bytes, in input order.
func (s *batchStream) Read(p []byte) (int, error) {
	for s.pos >= len(s.cur.raw) {
		switch {
		case s.cur.err != nil:
			return 0, s.cur.err
		case s.cur.eof:
			return 0, io.EOF
		}
		s.free <- s.cur
		next, ok := <-s.order
		if !ok {
			return 0, io.ErrUnexpectedEOF
		}
		<-next.done // a worker may still be reading it
		s.cur, s.pos = next, 0
	}
	n := copy(p, s.cur.raw[s.pos:])
	s.pos += n
	return n, nil
}

// finishBundle reads what follows the entries array: the end of the object,
// and nothing else, so that nothing can hide after the entries.
func finishBundle(sr *streamReader) error {
	if err := sr.expect('}'); err != nil {
		return fmt.Errorf(`"entries" must be the last field: %w`, err)
	}
	if !sr.atEOF() {
		return fmt.Errorf("unexpected data after the bundle at byte %d", sr.Offset())
	}
	return nil
}
