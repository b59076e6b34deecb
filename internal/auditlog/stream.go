package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errTruncated reports input that ends inside the document.
var errTruncated = errors.New("the bundle ends too early (truncated)")

// streamReader reads a JSON document piece by piece with flat memory: the
// bundle header value by value, then the entries line by line (see
// pipeline.go).
type streamReader struct {
	r      io.Reader
	buf    []byte
	pos    int
	end    int
	offset int64 // input offset of buf[0]
	err    error // read error, once the buffer is drained
}

func newStreamReader(r io.Reader) *streamReader {
	return &streamReader{r: r, buf: make([]byte, 256<<10)}
}

// Offset is the input position of the next unread byte.
func (s *streamReader) Offset() int64 { return s.offset + int64(s.pos) }

// fill reads more input; false at the end of input or on error.
func (s *streamReader) fill() bool {
	if s.err != nil {
		return false
	}
	if s.pos > 0 {
		copy(s.buf, s.buf[s.pos:s.end])
		s.offset += int64(s.pos)
		s.end -= s.pos
		s.pos = 0
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if err != nil {
		s.err = err
	}
	return n > 0 || err == nil
}

// peek skips whitespace and returns the next byte without consuming it.
func (s *streamReader) peek() (byte, error) {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, nil
			}
		}
		if !s.fill() {
			return 0, s.eof()
		}
	}
}

func (s *streamReader) eof() error {
	if s.err == nil || s.err == io.EOF {
		return errTruncated
	}
	return fmt.Errorf("reading the bundle: %w", s.err)
}

// expect consumes byte c, after whitespace.
func (s *streamReader) expect(c byte) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return fmt.Errorf("malformed JSON at byte %d: want %q, found %q", s.Offset(), c, got)
	}
	s.pos++
	return nil
}

// line appends the input up to and including the next newline to dst, or
// up to max bytes, or up to the end of input (io.EOF).
func (s *streamReader) line(dst []byte, max int) ([]byte, error) {
	n := 0
	for {
		if buf := s.buf[s.pos:s.end]; len(buf) > 0 {
			if i := bytes.IndexByte(buf, '\n'); i >= 0 {
				s.pos += i + 1
				return append(dst, buf[:i+1]...), nil
			}
			dst = append(dst, buf...)
			n += len(buf)
			s.pos = s.end
			if n >= max {
				return dst, nil
			}
		}
		if !s.fill() {
			if s.err == nil {
				return dst, io.EOF
			}
			return dst, s.err
		}
	}
}

// atEOF reports whether only whitespace remains.
func (s *streamReader) atEOF() bool {
	_, err := s.peek()
	return err == errTruncated
}

// rawValue appends the next JSON value's bytes to dst. It finds where the
// value ends (strings, nesting) but leaves checking it to the caller's
// parser.
func (s *streamReader) rawValue(dst []byte) ([]byte, error) {
	c, err := s.peek()
	if err != nil {
		return dst, err
	}
	depth := 0
	inString, escaped := false, false
	if c != '"' && c != '{' && c != '[' {
		// A scalar: runs until a delimiter.
		for {
			for s.pos < s.end {
				switch s.buf[s.pos] {
				case ',', '}', ']', ' ', '\t', '\n', '\r':
					return dst, nil
				}
				dst = append(dst, s.buf[s.pos])
				s.pos++
			}
			if !s.fill() {
				if s.err == io.EOF {
					return dst, nil
				}
				return dst, s.eof()
			}
		}
	}
	for {
		i, buf := s.pos, s.buf[:s.end]
		for i < len(buf) {
			if inString {
				if escaped {
					escaped = false
					i++
					continue
				}
				for i < len(buf) && buf[i] != '"' && buf[i] != '\\' {
					i++
				}
				if i == len(buf) {
					break
				}
				escaped = buf[i] == '\\'
				inString = escaped
				i++
				if !inString && depth == 0 {
					break
				}
				continue
			}
			switch buf[i] {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			i++
			if depth == 0 && !inString {
				break
			}
		}
		dst = append(dst, buf[s.pos:i]...)
		s.pos = i
		if depth == 0 && !inString {
			return dst, nil
		}
		if !s.fill() {
			return dst, s.eof()
		}
	}
}
