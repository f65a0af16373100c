// k8s-validate decodes Kubernetes manifests strictly against the Kubernetes API types (k8s.io/api, the same Go
// types the API server decodes into), the way `kubectl apply --validate=strict` asks the server to: a field the
// type does not have, a field given twice, a value of the wrong type, or a kind/apiVersion the API does not serve
// fails. Nothing is downloaded at run time: the schema is the compiled-in types.
//
//	k8s-validate FILE...    prints one line per document (OK or the errors); exits 1 if any document fails
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k8s-validate FILE...")
		os.Exit(2)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		admissionregistrationv1.AddToScheme, appsv1.AddToScheme, autoscalingv1.AddToScheme,
		autoscalingv2.AddToScheme, batchv1.AddToScheme, coordinationv1.AddToScheme, corev1.AddToScheme,
		discoveryv1.AddToScheme, networkingv1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme,
		schedulingv1.AddToScheme, storagev1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	failed := false
	for _, file := range os.Args[1:] {
		if err := validateFile(strict, file); err != nil {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func validateFile(decoder runtime.Decoder, file string) error {
	f, err := os.Open(file)
	if err != nil {
		fmt.Printf("%s: %v\n", file, err)
		return err
	}
	defer f.Close()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var failure error
	for index := 0; ; index++ {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Printf("%s #%d: %v\n", file, index, err)
			return err
		}
		if len(bytes.TrimSpace(stripComments(document))) == 0 {
			index--
			continue
		}
		object, kind, err := decoder.Decode(document, nil, nil)
		if err != nil {
			fmt.Printf("%s #%d: FAIL %v\n", file, index, err)
			failure = err
			continue
		}
		name := ""
		if meta, ok := object.(interface{ GetName() string }); ok {
			name = meta.GetName()
		}
		fmt.Printf("%s #%d: OK %s %s\n", file, index, kind.String(), name)
	}
	return failure
}

// stripComments drops comment-only lines, so that a document holding nothing but comments counts as empty.
func stripComments(document []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(document, []byte("\n")) {
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 && trimmed[0] == '#' {
			continue
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}
