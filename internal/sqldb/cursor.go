package sqldb

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/resellerconsole/reseller"
)

// Cursors are opaque to clients: a version tag and the key of the last row
// of the previous page (an id or a seq), so paging is by key, never offset.
const cursorTag = "k1."

func encodeCursor(key int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorTag + strconv.FormatInt(key, 10)))
}

// decodeCursor returns the key of a cursor, 0 for "", EINVALID for a cursor
// this store did not make.
func decodeCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	s, ok := strings.CutPrefix(string(b), cursorTag)
	if err != nil || !ok {
		return 0, reseller.Errorf(reseller.EINVALID, "Cursor %q is not valid; use next_cursor from a previous page.", c)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, reseller.Errorf(reseller.EINVALID, "Cursor %q is not valid; use next_cursor from a previous page.", c)
	}
	return n, nil
}
