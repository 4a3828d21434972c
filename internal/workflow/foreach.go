package workflow

import (
	"fmt"
	"strconv"
	"strings"
)

// TypeForEach maps over an array: each element runs the node's body as a task of its own.
const TypeForEach = "forEach"

// ElementNodeID is the node id of element i of forEach node parent: "parent[i]". Element tasks
// are tasks of the run like any other, under ids no node of the definition may take
// (Validate refuses them).
func ElementNodeID(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// ElementOf splits an element's node id into its forEach node's id and its index; ok is false
// for a node id of the definition.
func ElementOf(nodeID string) (parent string, index int, ok bool) {
	if !strings.HasSuffix(nodeID, "]") {
		return "", 0, false
	}
	open := strings.LastIndexByte(nodeID, '[')
	if open <= 0 {
		return "", 0, false
	}
	digits := nodeID[open+1 : len(nodeID)-1]
	if digits == "" || len(digits) > 9 || (len(digits) > 1 && digits[0] == '0') {
		return "", 0, false
	}
	i, err := strconv.Atoi(digits)
	if err != nil || i < 0 {
		return "", 0, false
	}
	return nodeID[:open], i, true
}

// validateElementIDs refuses a node whose id is an element id of a forEach node of the same
// definition, so element tasks never share a node id with a node.
func validateElementIDs(def Definition, v *ValidationError) {
	forEach := map[string]bool{}
	for _, n := range def.Nodes {
		if n.Base.Type == TypeForEach {
			forEach[n.ID] = true
		}
	}
	if len(forEach) == 0 {
		return
	}
	for i, n := range def.Nodes {
		if parent, _, ok := ElementOf(n.ID); ok && forEach[parent] {
			v.Add(fmt.Sprintf("nodes[%d].id", i), "%q is the id of an element of forEach node %q; choose another id", n.ID, parent)
		}
	}
}
