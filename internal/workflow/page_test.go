package workflow

import (
	"reflect"
	"testing"
	"time"
)

// A filter with any one field set is not zero, so a field added to RunFilter but forgotten in
// IsZero fails here: a bulk action relies on IsZero to refuse a search that keeps every run.
func TestRunFilterIsZero(t *testing.T) {
	if !(RunFilter{}).IsZero() {
		t.Fatal("the zero filter is not zero")
	}
	yes := true
	typ := reflect.TypeFor[RunFilter]()
	for i := range typ.NumField() {
		var f RunFilter
		v := reflect.ValueOf(&f).Elem().Field(i)
		switch v.Interface().(type) {
		case []string:
			v.Set(reflect.ValueOf([]string{RunFailed}))
		case *bool:
			v.Set(reflect.ValueOf(&yes))
		case string:
			v.SetString("x")
		case int:
			v.SetInt(1)
		case time.Time:
			v.Set(reflect.ValueOf(time.UnixMilli(1)))
		default:
			t.Fatalf("field %s has type %s, which this test does not set", typ.Field(i).Name, v.Type())
		}
		if f.IsZero() {
			t.Errorf("a filter with only %s set is zero", typ.Field(i).Name)
		}
	}
}
