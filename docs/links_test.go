// Package docs_test checks the repository's documentation: every relative link in the
// top-level Markdown files and under docs/ resolves to a file of the repository (and an
// anchor to a heading or an explicit id of that file), and nothing points outside it.
package docs_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// root is the repository root, the parent of this directory.
const root = ".."

var (
	linkRE    = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refRE     = regexp.MustCompile(`(?m)^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$`)
	headingRE = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
	idRE      = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	fenceRE   = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```")
	codeRE    = regexp.MustCompile("`[^`\n]*`")
)

// markdownFiles returns README.md and the other top-level Markdown files, and every Markdown
// file under docs/, relative to the root.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	top, err := filepath.Glob(filepath.Join(root, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := top
	err = filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// prose is a Markdown file without its code: fenced blocks and inline code spans.
func prose(text string) string {
	return codeRE.ReplaceAllString(fenceRE.ReplaceAllString(text, ""), "")
}

// anchors returns the fragment ids a Markdown file defines: GitHub's heading slugs (with
// -1, -2 ... for repeated headings) and explicit <a id="..."> anchors.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	for _, m := range idRE.FindAllStringSubmatch(text, -1) {
		out[m[1]] = true
	}
	seen := map[string]int{}
	for _, m := range headingRE.FindAllStringSubmatch(fenceRE.ReplaceAllString(text, ""), -1) {
		s := slug(m[1])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

var tagRE = regexp.MustCompile(`<[^>]+>`)
var inlineLinkRE = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// slug is GitHub's anchor of a heading: lower case, markup dropped, punctuation other than
// - and _ removed, spaces turned into hyphens.
func slug(h string) string {
	h = inlineLinkRE.ReplaceAllString(tagRE.ReplaceAllString(h, ""), "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestLinksResolveInsideTheRepository checks every relative link of the documentation.
func TestLinksResolveInsideTheRepository(t *testing.T) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	cache := map[string]map[string]bool{}
	anchorsOf := func(p string) (map[string]bool, error) {
		if a, ok := cache[p]; ok {
			return a, nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		cache[p] = anchors(string(raw))
		return cache[p], nil
	}
	files := markdownFiles(t)
	if len(files) < 3 {
		t.Fatalf("found only %v", files)
	}
	checked := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "../shared") {
			t.Errorf("%s mentions ../shared, a directory outside the repository", file)
		}
		text := prose(string(raw))
		var targets []string
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			targets = append(targets, m[1])
		}
		for _, m := range refRE.FindAllStringSubmatch(text, -1) {
			targets = append(targets, m[1])
		}
		for _, target := range targets {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			path, frag, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				if filepath.IsAbs(path) {
					t.Errorf("%s: link %q is absolute; links must be relative to the file", file, target)
					continue
				}
				dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
			}
			abs, err := filepath.Abs(dest)
			if err != nil {
				t.Fatal(err)
			}
			if rel, err := filepath.Rel(absRoot, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				t.Errorf("%s: link %q points outside the repository", file, target)
				continue
			}
			info, err := os.Stat(dest)
			if err != nil {
				t.Errorf("%s: link %q: %v", file, target, err)
				continue
			}
			if frag == "" || info.IsDir() || !strings.HasSuffix(dest, ".md") {
				continue
			}
			a, err := anchorsOf(dest)
			if err != nil {
				t.Fatal(err)
			}
			if !a[frag] {
				t.Errorf("%s: link %q: %s has no heading or anchor %q", file, target, dest, frag)
			}
		}
	}
	if checked == 0 {
		t.Error("no relative link found: the link pattern is broken")
	}
}

// TestSlug pins the heading-anchor rule the link check relies on.
func TestSlug(t *testing.T) {
	for h, want := range map[string]string{
		"Engine semantics":                    "engine-semantics",
		"What is guaranteed, and what is not": "what-is-guaranteed-and-what-is-not",
		"`GET /runs`: find any run":           "get-runs-find-any-run",
		"Queue UI with API keys":              "queue-ui-with-api-keys",
		"1. Create a workflow (`POST`)":       "1-create-a-workflow-post",
		"[Linked](x.md) heading":              "linked-heading",
		"Retry_and rerun -- lineage":          "retry_and-rerun----lineage",
	} {
		if got := slug(h); got != want {
			t.Errorf("slug(%q) = %q, want %q", h, got, want)
		}
	}
}
