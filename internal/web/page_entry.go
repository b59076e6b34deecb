package web

import (
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/resellerconsole/reseller"
)

// entryData is the page of one audit entry: every field it records, the
// client it is about, its inclusion proof and the entries around it.
type entryData struct {
	page
	Entry  *reseller.Entry
	Target targetView
	Client *reseller.Client // nil if the viewer may not see clients
	Record string           // the canonical record bytes, as hashed
	// The inclusion proof against the current checkpoint, base64 as the
	// API has it; ProofErr says why there is none.
	Proof    *reseller.InclusionProof
	LeafHash string
	Path     []string
	ProofErr string
	Prev     int64 // 0 when this is the first entry
	Next     int64 // 0 when this is the last entry
	Size     int64 // entries in the log
}

// entryPage shows one entry of the audit log: /audit/{seq}.
func (s *Server) entryPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	seq, err := pathID(r, "Entry")
	if err != nil {
		return err
	}
	e, err := s.store.FindEntry(ctx, seq)
	if err != nil {
		return err
	}
	d := &entryData{page: s.newPage(w, r, fmt.Sprintf("Entry #%d", seq), "audit"), Entry: e, Record: string(e.Record)}
	if d.Targets, err = s.entryClients(ctx, []*reseller.Entry{e}); err != nil {
		return err
	}
	d.Target = targetOf(d.Targets, e.Target)
	if !d.Target.User {
		d.Client = d.Targets[e.Target.ID]
	}
	c, err := s.store.CountEntries(ctx, reseller.AuditFilter{}, "", nil)
	if err != nil {
		return err
	}
	d.Size = c.Total
	if seq > 1 {
		d.Prev = seq - 1
	}
	if seq < d.Size {
		d.Next = seq + 1
	}
	p, err := s.store.ProveInclusion(ctx, seq, 0)
	switch code := reseller.ErrorCode(err); {
	case err == nil:
		d.Proof, d.LeafHash = p, base64.StdEncoding.EncodeToString(p.LeafHash)
		for _, h := range p.Proof {
			d.Path = append(d.Path, base64.StdEncoding.EncodeToString(h))
		}
	case code == reseller.ELOGINCONSISTENT:
		d.ProofErr = "No proof: this log failed its consistency check, so nothing more is signed until an operator has looked at it."
	case code == reseller.EINTERNAL || code == reseller.EINVALID:
		// No signing key on this server, or the entry is newer than the
		// last checkpoint: no proof to show.
		d.ProofErr = "No proof is available for this entry on this server yet."
	default:
		return err
	}
	return s.render(w, r, http.StatusOK, "entry.html", d)
}
