package djangoimport

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// object is one entry of a dumpdata array. Its values are slices of the
// reader's buffer: valid until the next object is read.
type object struct {
	Model  string
	PK     json.RawMessage
	Fields map[string]json.RawMessage
}

// Reader streams a dump: one object in memory at a time. The per-account
// rows come out of Next; the small models (global settings and prompts,
// plans) are kept for Global.
type Reader struct {
	src          io.Reader
	dec          *jsontext.Decoder
	obj          object // the object being read, its map reused
	buf          []byte // its values
	hash         hash.Hash
	m            *Mapping
	allowUnknown bool
	labels       map[string]string // dumpdata label → role
	models       map[string]*Model // role → its mapping
	started      bool
	done         bool
	global       store.DumpGlobal
	// Warnings are the unknown fields let through (--allow-unknown) and
	// models not in the mapping, one line each.
	Warnings []string
	seen     map[string]bool
	// badIDs counts the accounts whose id aiconfig cannot use.
	badIDs       int
	badIDSamples []string
	// Objects counts the objects read per dumpdata label.
	Objects map[string]int
	// KeysInDump lists the platform keys the dump holds in plaintext.
	KeysInDump []string
}

// NewReader reads a dump from r with mapping m.
func NewReader(r io.Reader, m *Mapping, allowUnknown bool) *Reader {
	h := sha256.New()
	src := io.TeeReader(bufio.NewReaderSize(r, 1<<16), h)
	// jsontext reads the dump value by value without building any tree
	// (encoding/json's Decode into a map took most of the import's own
	// CPU); as encoding/json did, it lets duplicate names and invalid
	// UTF-8 through (jsonText replaces the latter).
	dec := jsontext.NewDecoder(src, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	d := &Reader{src: src, dec: dec, hash: h, obj: object{Fields: map[string]json.RawMessage{}}, m: m, allowUnknown: allowUnknown,
		labels: map[string]string{}, seen: map[string]bool{}, Objects: map[string]int{}}
	d.models = m.roles()
	for role, mod := range d.models {
		d.labels[strings.ToLower(mod.Label)] = role
	}
	d.global.APIKeys = map[domain.Integration]string{}
	return d
}

// SHA256 is the digest of the whole dump (once it is read).
func (d *Reader) SHA256() string { return hex.EncodeToString(d.hash.Sum(nil)) }

// Global is the small part of the dump, once Next has returned nil.
func (d *Reader) Global() (store.DumpGlobal, error) {
	if !d.done {
		return d.global, errors.New("the dump was not read to its end")
	}
	if d.badIDs > 0 {
		more := ""
		if d.badIDs > len(d.badIDSamples) {
			more = fmt.Sprintf(" (and %d more)", d.badIDs-len(d.badIDSamples))
		}
		return d.global, dumpError("account ids aiconfig cannot use (1-128 of A-Z a-z 0-9 . _ : @ -; the mapping's models.accounts.id names the field): %s%s",
			strings.Join(d.badIDSamples, "; "), more)
	}
	return d.global, nil
}

// Next returns the next per-account row, or nil at the end.
func (d *Reader) Next() (*store.DumpRow, error) {
	if !d.started {
		d.started = true
		if t, err := d.dec.ReadToken(); err != nil || t.Kind() != '[' {
			return nil, dumpError("a dump is a JSON array (manage.py dumpdata output): %v", errOr(err, t))
		}
	}
	for !d.done {
		if d.dec.PeekKind() == ']' {
			if _, err := d.dec.ReadToken(); err != nil {
				return nil, dumpError("reading the dump's end: %v", err)
			}
			if _, err := io.Copy(io.Discard, d.src); err != nil { // the rest, for the digest
				return nil, err
			}
			d.done = true
			return nil, nil
		}
		if err := d.readObject(); err != nil {
			return nil, dumpError("reading an object of the dump: %v", err)
		}
		row, err := d.object(&d.obj)
		if row != nil || err != nil {
			return row, err
		}
	}
	return nil, nil
}

// readObject reads the next object of the array into d.obj: its model,
// pk and fields (other members, and fields not an object, are skipped,
// as encoding/json did).
func (d *Reader) readObject() error {
	o := &d.obj
	o.Model, o.PK = "", nil
	clear(o.Fields)
	d.buf = d.buf[:0]
	if t, err := d.dec.ReadToken(); err != nil {
		return err
	} else if t.Kind() != '{' {
		return fmt.Errorf("want an object, got %v", t)
	}
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadToken()
		if err != nil {
			return err
		}
		if err := d.readMember(name.String()); err != nil {
			return err
		}
	}
	_, err := d.dec.ReadToken()
	return err
}

// readMember reads the value of one member of an object into d.obj.
func (d *Reader) readMember(name string) error {
	o := &d.obj
	if name == "fields" && d.dec.PeekKind() == '{' {
		return d.readFields()
	}
	v, err := d.dec.ReadValue()
	if err != nil {
		return err
	}
	switch name {
	case "model":
		if v.Kind() == '"' {
			s, err := jsonText(json.RawMessage(v))
			if err != nil {
				return err
			}
			o.Model = s
		}
	case "pk":
		o.PK = d.keep(v)
	}
	return nil
}

// readFields reads the object of an object's fields into d.obj.Fields.
func (d *Reader) readFields() error {
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	for d.dec.PeekKind() != '}' {
		f, err := d.dec.ReadToken()
		if err != nil {
			return err
		}
		name := f.String()
		v, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		d.obj.Fields[name] = d.keep(v)
	}
	_, err := d.dec.ReadToken()
	return err
}

// keep copies a value the decoder returned (valid only until its next
// read) into the object's buffer.
func (d *Reader) keep(v jsontext.Value) json.RawMessage {
	n := len(d.buf)
	d.buf = append(d.buf, v...)
	return json.RawMessage(d.buf[n:len(d.buf):len(d.buf)])
}

func errOr(err error, t jsontext.Token) any {
	if err != nil {
		return err
	}
	return fmt.Sprintf("it starts with %v", t)
}

// dumpError is the error for a dump the import cannot use (exit 2).
func dumpError(format string, args ...any) error {
	return domain.InvalidField("dump", format, args...)
}

// object handles one dump object: a row to stage, or nil once it kept a
// small one.
func (d *Reader) object(o *object) (*store.DumpRow, error) {
	label := strings.ToLower(o.Model)
	d.Objects[label]++
	pk := pkText(o.PK)
	role, ok := d.labels[label]
	if !ok {
		return nil, d.unknown(fmt.Sprintf("model %s (first pk %s) is not in the mapping", o.Model, pk))
	}
	mod := d.models[role]
	if err := d.checkFields(mod, o, pk); err != nil {
		return nil, err
	}
	f := fields{o: o, mod: mod, pk: pk}
	switch role {
	case "global_settings":
		return nil, d.globalSettings(f)
	case "global_prompts":
		return nil, d.globalPrompt(f)
	case "plans":
		return nil, d.plan(f)
	case "accounts":
		return d.account(f)
	case "overrides":
		return d.override(f)
	default:
		return d.accountPrompt(f)
	}
}

// unknown is an error, or with --allow-unknown a warning (once per text).
func (d *Reader) unknown(msg string) error {
	if !d.allowUnknown {
		return dumpError("%s; map it or list it under ignore in the mapping (--print-mapping shows the default), or pass --allow-unknown", msg)
	}
	if !d.seen[msg] {
		d.seen[msg] = true
		d.Warnings = append(d.Warnings, msg+": not imported (--allow-unknown)")
	}
	return nil
}

// checkFields refuses (or warns about) a field neither mapped nor ignored.
func (d *Reader) checkFields(mod *Model, o *object, pk string) error {
	known := func(name string) bool {
		_, ok := mod.Fields[name]
		return ok || name == mod.ID || slices.Contains(mod.Ignore, name)
	}
	var unknown []string
	for name := range o.Fields {
		if !known(name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown) // the first named is the same every run
	for _, name := range unknown {
		key := strings.ToLower(mod.Label) + "." + name
		if d.seen[key] {
			continue
		}
		d.seen[key] = true
		if err := d.unknown(fmt.Sprintf("field %s of model %s (first pk %s) is not in the mapping", name, mod.Label, pk)); err != nil {
			return err
		}
	}
	return nil
}

// fields reads one object's values by target.
type fields struct {
	o   *object
	mod *Model
	pk  string
}

// raw is the value feeding target (nil when the dump has none).
func (f fields) raw(target string) json.RawMessage {
	name := f.mod.source(target)
	if name == "" {
		return nil
	}
	v := f.o.Fields[name]
	if bytes.Equal(v, []byte("null")) {
		return nil
	}
	return v
}

func (f fields) fail(target, format string, args ...any) error {
	return dumpError("%s pk %s, field %s: %s", f.mod.Label, f.pk, f.mod.source(target), fmt.Sprintf(format, args...))
}

// str reads a string value; a number is taken as its text.
func (f fields) str(target string) (*string, error) {
	v := f.raw(target)
	if v == nil {
		return nil, nil
	}
	s, err := jsonText(v)
	if err != nil {
		return nil, f.fail(target, "want a string, got %s", jsonKind(v))
	}
	return &s, nil
}

// jsonKind names the JSON type of v ("an object", ...), for an error about
// a value that may hold an API key: never the value itself.
func jsonKind(v json.RawMessage) string {
	switch b := bytes.TrimSpace(v); {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "an object"
	case b[0] == '[':
		return "a list"
	case b[0] == '"':
		return "a string"
	case b[0] == 't' || b[0] == 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

func (f fields) text(target string) (string, error) {
	s, err := f.str(target)
	return domain.Deref(s), err
}

func jsonText(v json.RawMessage) (string, error) {
	// Most values are a plain string or a number: their text as it is
	// (the decoder checked the syntax), without encoding/json's reflection.
	if n := len(v); n >= 2 && v[0] == '"' && v[n-1] == '"' && bytes.IndexByte(v[1:n-1], '\\') < 0 && utf8.Valid(v[1:n-1]) {
		return string(v[1 : n-1]), nil
	}
	if len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') && json.Valid(v) {
		return string(bytes.TrimSpace(v)), nil // a number's literal, as json.Number has it
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}

func pkText(v json.RawMessage) string {
	s, err := jsonText(v)
	if err != nil {
		return string(v)
	}
	return s
}

// float reads a number (a numeric string too: a CharField holding one).
func float(v json.RawMessage) (*float64, bool) {
	if v == nil {
		return nil, true
	}
	s, err := jsonText(v)
	if err != nil {
		return nil, false
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return nil, false
	}
	return &x, true
}

// integer reads a whole number, kept within int32 (aiconfig's range;
// larger is clamped when read anyway).
func integer(v json.RawMessage) (*int32, bool) {
	x, ok := float(v)
	if !ok || x == nil {
		return nil, ok
	}
	if *x != math.Trunc(*x) {
		return nil, false
	}
	n := int32(math.Max(math.Min(*x, math.MaxInt32), math.MinInt32))
	return &n, true
}

func boolean(v json.RawMessage) (bool, bool) {
	if v == nil {
		return false, true
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, false
	}
	return b, true
}
