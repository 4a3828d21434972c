package deploy_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The PromQL reader below finds which metric names, label names and label values an
// expression uses; whether the expression is valid PromQL is promtool's job (see
// monPromtoolParse). It tokenizes the expression and classifies identifiers by position:
// inside {} they are label matchers of the selector before the brace, inside the () after
// by/without/on/ignoring/group_left/group_right they are label names, before ( they are
// functions or aggregations, and elsewhere (keywords aside) they are metric names.

type monTokKind int

const (
	monIdent monTokKind = iota
	monString
	monNumber
	monPunct
)

type monTok struct {
	kind monTokKind
	text string // strings: the unquoted value
}

func monLex(expr string) ([]monTok, error) {
	var toks []monTok
	isIdentStart := func(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || c == ':' || c >= '0' && c <= '9' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			var b strings.Builder
			j := i + 1
			for ; j < len(expr) && expr[j] != c; j++ {
				if expr[j] == '\\' && c != '`' && j+1 < len(expr) {
					j++
				}
				b.WriteByte(expr[j])
			}
			if j >= len(expr) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			toks = append(toks, monTok{monString, b.String()})
			i = j + 1
		case isDigit(c) || c == '.' && i+1 < len(expr) && isDigit(expr[i+1]):
			j := i
			for j < len(expr) && (isIdent(expr[j]) && expr[j] != ':' || expr[j] == '.') {
				j++
			}
			toks = append(toks, monTok{monNumber, expr[i:j]})
			i = j
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			toks = append(toks, monTok{monIdent, expr[i:j]})
			i = j
		default:
			op := string(c)
			if i+1 < len(expr) && slices.Contains([]string{"==", "!=", "=~", "!~", ">=", "<="}, expr[i:i+2]) {
				op = expr[i : i+2]
			}
			if !strings.Contains("(){}[],+-*/%^=!~<>@:", string(c)) {
				return nil, fmt.Errorf("unexpected character %q at offset %d", c, i)
			}
			toks = append(toks, monTok{monPunct, op})
			i += len(op)
		}
	}
	return toks, nil
}

var (
	monAggregations = []string{"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
		"bottomk", "topk", "quantile", "limitk", "limit_ratio"}
	monGroupings = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}
	monKeywords  = []string{"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "start", "end"}
)

// monUse is what an expression references.
type monUse struct {
	metrics  []monMetricRef
	matchers []monMatcher
	groups   []monGrouping
}

type monMetricRef struct {
	name string
	tok  int
}

type monMatcher struct {
	metric           string
	tok              int // the metric name's token, as in monMetricRef
	label, op, value string
}

type monGrouping struct {
	keyword  string
	labels   []string
	from, to int // exclusive token range whose metrics provide the labels (-1, len: all)
}

func monAnalyze(expr string) (*monUse, error) {
	toks, err := monLex(expr)
	if err != nil {
		return nil, err
	}
	closing := map[int]int{} // open bracket index -> matching close
	opening := map[int]int{} // close bracket index -> matching open
	var stack []int
	for i, t := range toks {
		if t.kind != monPunct {
			continue
		}
		switch t.text {
		case "(", "{", "[":
			stack = append(stack, i)
		case ")", "}", "]":
			if len(stack) == 0 || "({["[strings.Index(")}]", t.text)] != toks[stack[len(stack)-1]].text[0] {
				return nil, fmt.Errorf("unbalanced %q", t.text)
			}
			closing[stack[len(stack)-1]], opening[i] = i, stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("unclosed %q", toks[stack[len(stack)-1]].text)
	}
	u := &monUse{}
	isPunct := func(i int, s string) bool {
		return i >= 0 && i < len(toks) && toks[i].kind == monPunct && toks[i].text == s
	}
	// enclosing returns the innermost ( ... ) around token i, or the whole expression.
	enclosing := func(i int) (int, int) {
		best, bestClose := -1, len(toks)
		for open, cl := range closing {
			if toks[open].text == "(" && open < i && i < cl && open > best {
				best, bestClose = open, cl
			}
		}
		return best, bestClose
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == monPunct && t.text == "{":
			if i == 0 || toks[i-1].kind != monIdent {
				return nil, fmt.Errorf("a selector without a metric name before {...}: write the name before the braces")
			}
			metric := toks[i-1].text
			end := closing[i]
			for j := i + 1; j < end; {
				if toks[j].kind != monIdent || j+2 >= end || toks[j+1].kind != monPunct || toks[j+2].kind != monString {
					return nil, fmt.Errorf("cannot read the label matchers of %s{...}", metric)
				}
				u.matchers = append(u.matchers, monMatcher{metric, i - 1, toks[j].text, toks[j+1].text, toks[j+2].text})
				j += 3
				if isPunct(j, ",") {
					j++
				}
			}
			i = end
		case t.kind == monPunct && t.text == "[":
			i = closing[i] // durations and subquery steps
		case t.kind != monIdent:
		case slices.Contains(monGroupings, t.text):
			if !isPunct(i+1, "(") {
				if t.text == "group_left" || t.text == "group_right" {
					continue
				}
				return nil, fmt.Errorf("%s without a label list", t.text)
			}
			end := closing[i+1]
			g := monGrouping{keyword: t.text}
			for j := i + 2; j < end; j++ {
				switch {
				case toks[j].kind == monIdent:
					g.labels = append(g.labels, toks[j].text)
				case !isPunct(j, ","):
					return nil, fmt.Errorf("cannot read the label list of %s(...)", t.text)
				}
			}
			switch {
			case t.text != "by" && t.text != "without":
				g.from, g.to = enclosing(i)
			case i > 0 && toks[i-1].kind == monIdent && slices.Contains(monAggregations, toks[i-1].text) && isPunct(end+1, "("):
				g.from, g.to = end+1, closing[end+1] // sum by (l) (expr)
			case isPunct(i-1, ")"):
				o := opening[i-1]
				if o == 0 || toks[o-1].kind != monIdent || !slices.Contains(monAggregations, toks[o-1].text) {
					return nil, fmt.Errorf("%s(...) does not follow an aggregation", t.text)
				}
				g.from, g.to = o, i-1 // sum (expr) by (l)
			default:
				return nil, fmt.Errorf("%s(...) does not belong to an aggregation", t.text)
			}
			u.groups = append(u.groups, g)
			i = end
		case slices.Contains(monKeywords, strings.ToLower(t.text)), slices.Contains(monAggregations, t.text):
		case isPunct(i+1, "("): // function
		default:
			u.metrics = append(u.metrics, monMetricRef{t.text, i})
		}
	}
	return u, nil
}

// monCatalog is what the service exports: families and labels from metrics.golden, which of
// them are histograms, and known label values.
type monCatalog struct {
	families   map[string][]string
	histograms map[string]bool
	values     map[string]map[string][]string // family -> label -> values; "*" family: any
}

// labelsOf resolves a series name (histogram suffixes included) to its family's labels.
func (c *monCatalog) labelsOf(name string) (family string, labels []string, err error) {
	common := []string{"job", "instance"}
	if ls, ok := c.families[name]; ok {
		return name, append(slices.Clone(ls), common...), nil
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		fam, found := strings.CutSuffix(name, suffix)
		if !found {
			continue
		}
		if ls, ok := c.families[fam]; ok && c.histograms[fam] {
			labels = append(slices.Clone(ls), common...)
			if suffix == "_bucket" {
				labels = append(labels, "le")
			}
			return fam, labels, nil
		}
		if _, ok := c.families[fam]; ok {
			return "", nil, fmt.Errorf("metric %q: %s is not a histogram, it has no %s series", name, fam, suffix)
		}
	}
	return "", nil, fmt.Errorf("metric %q is not exported by the service (not in internal/app/testdata/metrics.golden)%s", name, c.suggest(name))
}

func (c *monCatalog) suggest(name string) string {
	best, bestD := "", 4
	for fam := range c.families {
		if d := monDistance(name, fam); d < bestD {
			best, bestD = fam, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %s?", best)
}

func monDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// check returns every reason expr references something the service does not export.
func (c *monCatalog) check(expr string) []error {
	u, err := monAnalyze(expr)
	if err != nil {
		return []error{err}
	}
	var errs []error
	if len(u.metrics) == 0 && len(u.matchers) == 0 {
		errs = append(errs, fmt.Errorf("no metric referenced"))
	}
	resolved := map[int][]string{} // metric token -> labels
	for _, m := range u.metrics {
		_, labels, err := c.labelsOf(m.name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resolved[m.tok] = labels
	}
	for _, m := range u.matchers {
		fam, labels, err := c.labelsOf(m.metric)
		if err != nil {
			continue // reported above
		}
		if !slices.Contains(labels, m.label) {
			errs = append(errs, fmt.Errorf("%s has no label %q (labels: %s)", m.metric, m.label, strings.Join(labels, ", ")))
			continue
		}
		if err := c.checkValue(fam, m); err != nil {
			errs = append(errs, err)
		}
	}
	for _, g := range u.groups {
		var avail []string
		for tok, labels := range resolved {
			if g.from < tok && tok < g.to {
				avail = append(avail, labels...)
			}
		}
		for _, l := range g.labels {
			if !slices.Contains(avail, l) {
				errs = append(errs, fmt.Errorf("%s (%s): no metric in its scope has label %q", g.keyword, strings.Join(g.labels, ", "), l))
			}
		}
	}
	return errs
}

// checkValue compares a matcher's value with the values the label is known to take.
func (c *monCatalog) checkValue(family string, m monMatcher) error {
	known := c.values[family][m.label]
	if known == nil {
		known = c.values["*"][m.label]
	}
	if known == nil || strings.Contains(m.value, "$") {
		return nil
	}
	switch m.op {
	case "=", "!=":
		if !slices.Contains(known, m.value) {
			return fmt.Errorf("%s{%s%s%q}: %q is not a value of %s (known: %s)", m.metric, m.label, m.op, m.value, m.value, m.label, strings.Join(known, ", "))
		}
	case "=~", "!~":
		re, err := regexp.Compile("^(?:" + m.value + ")$")
		if err != nil {
			return fmt.Errorf("%s{%s%s%q}: %v", m.metric, m.label, m.op, m.value, err)
		}
		for _, alt := range strings.Split(m.value, "|") {
			if regexp.QuoteMeta(alt) == alt && !slices.Contains(known, alt) {
				return fmt.Errorf("%s{%s%s%q}: %q is not a value of %s (known: %s)", m.metric, m.label, m.op, m.value, alt, m.label, strings.Join(known, ", "))
			}
		}
		if !slices.ContainsFunc(known, re.MatchString) {
			return fmt.Errorf("%s{%s%s%q} matches none of %s", m.metric, m.label, m.op, m.value, strings.Join(known, ", "))
		}
	default:
		return fmt.Errorf("%s{%s%s%q}: unknown matcher operator", m.metric, m.label, m.op, m.value)
	}
	return nil
}
