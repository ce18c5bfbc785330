package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// manifests is every object in deploy/kubernetes, decoded strictly into
// the Kubernetes API types: a field the type does not have is an error.
type manifests struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	pdbs        []*policyv1.PodDisruptionBudget
	jobs        []*batchv1.Job
	secrets     []*corev1.Secret
}

func decodeManifests(files map[string][]byte) (*manifests, error) {
	m := &manifests{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for i, doc := range bytes.Split(files[name], []byte("\n---\n")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				return nil, fmt.Errorf("%s #%d: %w", name, i+1, err)
			}
			var obj any
			switch meta.APIVersion + " " + meta.Kind {
			case "apps/v1 Deployment":
				o := &appsv1.Deployment{}
				m.deployments, obj = append(m.deployments, o), o
			case "v1 Service":
				o := &corev1.Service{}
				m.services, obj = append(m.services, o), o
			case "policy/v1 PodDisruptionBudget":
				o := &policyv1.PodDisruptionBudget{}
				m.pdbs, obj = append(m.pdbs, o), o
			case "batch/v1 Job":
				o := &batchv1.Job{}
				m.jobs, obj = append(m.jobs, o), o
			case "v1 Secret":
				o := &corev1.Secret{}
				m.secrets, obj = append(m.secrets, o), o
			default:
				return nil, fmt.Errorf("%s #%d: unexpected %s %s", name, i+1, meta.APIVersion, meta.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				return nil, fmt.Errorf("%s #%d (%s): %w", name, i+1, meta.Kind, err)
			}
		}
	}
	return m, nil
}

func readManifests(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

// checkKubernetes checks the manifests against the binary: every error found.
func checkKubernetes(b binary, m *manifests) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	secretKeys := map[string][]string{}
	for _, s := range m.secrets {
		for k := range s.StringData {
			secretKeys[s.Name] = append(secretKeys[s.Name], k)
		}
		for k := range s.Data {
			secretKeys[s.Name] = append(secretKeys[s.Name], k)
		}
	}
	if len(m.deployments) != 1 || len(m.services) != 1 || len(m.pdbs) != 1 || len(m.jobs) != 1 {
		return fmt.Errorf("want one Deployment, Service, PodDisruptionBudget and Job; have %d, %d, %d, %d",
			len(m.deployments), len(m.services), len(m.pdbs), len(m.jobs))
	}
	d, svc, pdb, job := m.deployments[0], m.services[0], m.pdbs[0], m.jobs[0]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		fail("Deployment: want 3 replicas")
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		return errors.Join(append(errs, fmt.Errorf("Deployment: want one container, have %d", len(pod.Containers)))...)
	}
	c := pod.Containers[0]
	if !slices.Equal(append(c.Command, c.Args...), []string{"serve"}) {
		fail("Deployment: the container runs %q, want the image's aiconfigd with args [serve]", append(c.Command, c.Args...))
	}
	env, err := containerEnv(c, secretKeys)
	if err != nil {
		fail("Deployment: %v", err)
	}
	if err := b.checkEnvNames(env); err != nil {
		fail("Deployment: %v", err)
	}
	errs = append(errs, checkKeyFiles("Deployment", c, pod, env, secretKeys)...)

	// Ports: what serve listens on, from the environment the manifest
	// sets (or serve's defaults), against the container's ports, the
	// probes and the Service.
	listens := map[string]int{}
	for name, v := range map[string]string{"grpc": "AICONFIG_LISTEN", "http": "AICONFIG_HTTP_LISTEN", "metrics": "AICONFIG_METRICS_LISTEN"} {
		port, on, err := b.listener(env, v)
		switch {
		case err != nil:
			fail("Deployment: %v", err)
		case !on:
			fail("Deployment: %s is disabled; the Service exposes %s", v, name)
		default:
			listens[name] = port
		}
	}
	containerPorts := map[string]int{}
	for _, p := range c.Ports {
		containerPorts[p.Name] = int(p.ContainerPort)
		if !slices.Contains(mapValues(listens), int(p.ContainerPort)) {
			fail("Deployment: containerPort %s %d: serve does not listen there (it listens on %v)", p.Name, p.ContainerPort, listens)
		}
	}
	for name, port := range listens {
		if containerPorts[name] != port {
			fail("Deployment: containerPort %q is %d; serve's %s port is %d", name, containerPorts[name], name, port)
		}
	}
	grpcPort := listens["grpc"]
	probes := map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe}
	for kind, p := range probes {
		if p == nil {
			if kind != "startup" {
				fail("Deployment: no %s probe", kind)
			}
			continue
		}
		if p.GRPC == nil {
			fail("Deployment: the %s probe is not a native gRPC probe", kind)
			continue
		}
		if int(p.GRPC.Port) != grpcPort {
			fail("Deployment: the %s probe checks port %d; serve's gRPC health is on %d", kind, p.GRPC.Port, grpcPort)
		}
		svcName := ""
		if p.GRPC.Service != nil {
			svcName = *p.GRPC.Service
		}
		if svcName != "" && svcName != "aiconfig.v1.ConfigService" {
			// aiconfig.writes goes NOT_SERVING with the database while reads
			// are still answered from memory: probing it would pull (or
			// restart) every replica at once in an outage.
			fail("Deployment: the %s probe checks service %q; want reads (\"\" or aiconfig.v1.ConfigService)", kind, svcName)
		}
	}
	if p := c.ReadinessProbe; p != nil {
		// Readiness must notice the drain (NOT_SERVING) within the drain delay.
		drain, _ := time.ParseDuration(b.setting(env, "AICONFIG_DRAIN_DELAY"))
		if notice := time.Duration(p.PeriodSeconds*max(p.FailureThreshold, 1)) * time.Second; notice > drain {
			fail("Deployment: readiness notices NOT_SERVING after up to %v, longer than the drain delay %v", notice, drain)
		}
	}
	stop, err := b.stopTime(env)
	if err != nil {
		fail("Deployment: %v", err)
	} else if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second < stop {
		fail("Deployment: terminationGracePeriodSeconds %v is less than serve's stop (drain, in-flight calls, trace flush): %v", deref(g), stop)
	}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		if c.Lifecycle.PreStop.Exec != nil {
			fail("Deployment: preStop exec: the image has no shell or sleep")
		}
		if s := c.Lifecycle.PreStop.Sleep; s != nil && pod.TerminationGracePeriodSeconds != nil &&
			time.Duration(*pod.TerminationGracePeriodSeconds-s.Seconds)*time.Second < stop {
			fail("Deployment: preStop sleep %ds leaves less than serve's stop %v of the grace period", s.Seconds, stop)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		fail("Deployment: want CPU and memory requests and a memory limit")
	}
	errs = append(errs, checkNonRoot("Deployment", pod, c)...)

	// The Service: its selector picks the pods, each port reaches a port serve listens on.
	if !selects(svc.Spec.Selector, d.Spec.Template.Labels) {
		fail("Service: selector %v does not pick the Deployment's pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
	seen := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		target := resolvePort(p.TargetPort, int(p.Port), containerPorts)
		if !slices.Contains(mapValues(listens), target) {
			fail("Service: port %s targets %s, which is no port serve listens on (%v)", p.Name, p.TargetPort.String(), listens)
		}
		for name, port := range listens {
			if port == target {
				seen[name] = true
			}
		}
	}
	for name := range listens {
		if !seen[name] {
			fail("Service: no port for %s", name)
		}
	}
	// The budget covers the Deployment's pods and leaves some serving.
	if pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		fail("PodDisruptionBudget: its selector does not pick the Deployment's pods")
	}
	if u := pdb.Spec.MaxUnavailable; u != nil && u.IntValue() >= 3 || pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
		fail("PodDisruptionBudget: allows every replica away")
	}
	// The Job migrates once, with the same database and keys.
	jp := job.Spec.Template.Spec
	if len(jp.Containers) != 1 {
		fail("Job: want one container")
	} else {
		jc := jp.Containers[0]
		if !slices.Equal(append(jc.Command, jc.Args...), []string{"migrate", "up"}) {
			fail("Job: runs %q, want [migrate up]", append(jc.Command, jc.Args...))
		}
		if jc.Image != c.Image {
			fail("Job: image %s, the Deployment's is %s", jc.Image, c.Image)
		}
		jenv, err := containerEnv(jc, secretKeys)
		if err != nil {
			fail("Job: %v", err)
		}
		if err := b.checkEnvNames(jenv); err != nil {
			fail("Job: %v", err)
		}
		if _, ok := jenv["AICONFIG_DATABASE_URL"]; !ok {
			fail("Job: no AICONFIG_DATABASE_URL")
		}
		errs = append(errs, checkKeyFiles("Job", jc, jp, jenv, secretKeys)...)
		errs = append(errs, checkNonRoot("Job", jp, jc)...)
		if jp.RestartPolicy != corev1.RestartPolicyNever && jp.RestartPolicy != corev1.RestartPolicyOnFailure {
			fail("Job: restartPolicy %q", jp.RestartPolicy)
		}
		if selects(d.Spec.Selector.MatchLabels, job.Spec.Template.Labels) {
			fail("Job: its pods carry the Deployment's labels, so the Service would route calls to them")
		}
	}
	return errors.Join(errs...)
}

// containerEnv is the container's environment: literal values, and
// secretKeyRef ones as "(secret NAME/KEY)" once the key is known to exist.
func containerEnv(c corev1.Container, secretKeys map[string][]string) (map[string]string, error) {
	env := map[string]string{}
	var errs []error
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			if !slices.Contains(secretKeys[r.Name], r.Key) {
				errs = append(errs, fmt.Errorf("%s: secret %s has no key %q", e.Name, r.Name, r.Key))
			}
			env[e.Name] = "(secret " + r.Name + "/" + r.Key + ")"
		default:
			env[e.Name] = "(from elsewhere)"
		}
	}
	if v, ok := env["AICONFIG_DATABASE_URL"]; ok && !strings.HasPrefix(v, "(secret ") {
		errs = append(errs, errors.New("AICONFIG_DATABASE_URL is a literal value: take it from a Secret (secretKeyRef)"))
	}
	return env, errors.Join(errs...)
}

// checkKeyFiles: the key files the environment names are in a Secret
// volume mounted whole (a subPath mount is never updated, and key
// rotation depends on replicas seeing the files change), read-only, and
// the Secret holds a key of each file's name.
func checkKeyFiles(what string, c corev1.Container, pod corev1.PodSpec, env map[string]string, secretKeys map[string][]string) []error {
	var errs []error
	if env["AICONFIG_SECRET_KEY_FILE"] == "" {
		errs = append(errs, fmt.Errorf("%s: no AICONFIG_SECRET_KEY_FILE", what))
	}
	for _, v := range []string{"AICONFIG_SECRET_KEY_FILE", "AICONFIG_PREVIOUS_SECRET_KEYS_FILE"} {
		file := env[v]
		if file == "" {
			continue
		}
		var mount *corev1.VolumeMount
		for i, m := range c.VolumeMounts {
			if m.SubPath == "" && strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/") {
				mount = &c.VolumeMounts[i]
			}
		}
		if mount == nil {
			errs = append(errs, fmt.Errorf("%s: %s=%s is in no volume mounted whole (a subPath mount is never updated)", what, v, file))
			continue
		}
		if !mount.ReadOnly {
			errs = append(errs, fmt.Errorf("%s: the key volume %s is mounted read-write", what, mount.Name))
		}
		var vol *corev1.Volume
		for i := range pod.Volumes {
			if pod.Volumes[i].Name == mount.Name {
				vol = &pod.Volumes[i]
			}
		}
		if vol == nil || vol.Secret == nil {
			errs = append(errs, fmt.Errorf("%s: %s is not a Secret volume", what, mount.Name))
			continue
		}
		key := strings.TrimPrefix(file, strings.TrimSuffix(mount.MountPath, "/")+"/")
		for _, it := range vol.Secret.Items {
			if it.Path == key {
				key = it.Key
			}
		}
		if !slices.Contains(secretKeys[vol.Secret.SecretName], key) {
			errs = append(errs, fmt.Errorf("%s: %s=%s: secret %s has no key %q", what, v, file, vol.Secret.SecretName, key))
		}
	}
	return errs
}

func checkNonRoot(what string, pod corev1.PodSpec, c corev1.Container) []error {
	var errs []error
	nonRoot, uid := false, int64(-1)
	if s := pod.SecurityContext; s != nil {
		nonRoot = s.RunAsNonRoot != nil && *s.RunAsNonRoot
		if s.RunAsUser != nil {
			uid = *s.RunAsUser
		}
	}
	if s := c.SecurityContext; s != nil {
		if s.RunAsNonRoot != nil {
			nonRoot = *s.RunAsNonRoot
		}
		if s.RunAsUser != nil {
			uid = *s.RunAsUser
		}
	}
	if !nonRoot || uid == 0 {
		errs = append(errs, fmt.Errorf("%s: not runAsNonRoot (uid %d)", what, uid))
	}
	if s := c.SecurityContext; s == nil || s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem {
		errs = append(errs, fmt.Errorf("%s: the root filesystem is writable", what))
	}
	if s := c.SecurityContext; s == nil || s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation {
		errs = append(errs, fmt.Errorf("%s: privilege escalation allowed", what))
	}
	return errs
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func resolvePort(target intstr.IntOrString, port int, named map[string]int) int {
	switch {
	case target.Type == intstr.String:
		return named[target.StrVal] // 0 when no container port has the name
	case target.IntVal != 0:
		return int(target.IntVal)
	}
	return port
}

func mapValues(m map[string]int) []int {
	var out []int
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func deref(p *int64) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// TestKubernetesManifests: deploy/kubernetes decodes strictly into the
// API types, and its probes, ports, grace period and mounts agree with
// what the binary listens on and reads.
func TestKubernetesManifests(t *testing.T) {
	b := aiconfigd(t)
	m, err := decodeManifests(readManifests(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkKubernetes(b, m); err != nil {
		t.Error(err)
	}
}

// TestKubernetesManifestsRefuseMistakes: each doctored copy of the
// manifests (one mistake from the issue trackers of services like this
// one) fails the checks, with the reason.
func TestKubernetesManifestsRefuseMistakes(t *testing.T) {
	b := aiconfigd(t)
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"readiness probe on a port serve does not listen on", "deployment.yaml",
			"readinessProbe:\n            grpc:\n              port: 50051", "readinessProbe:\n            grpc:\n              port: 50052", "readiness probe checks port 50052"},
		{"liveness probe on the metrics port", "deployment.yaml",
			"livenessProbe:\n            grpc:\n              port: 50051", "livenessProbe:\n            grpc:\n              port: 9464", "liveness probe checks port 9464"},
		{"serve moved, probes left behind", "deployment.yaml",
			"value: 0.0.0.0:50051", "value: 0.0.0.0:50061", "probe checks port 50051; serve's gRPC health is on 50061"},
		{"gRPC on loopback", "deployment.yaml", "value: 0.0.0.0:50051", "value: 127.0.0.1:50051", "loopback"},
		{"readiness on writes", "deployment.yaml",
			"readinessProbe:\n            grpc:\n              port: 50051\n              service: \"\"",
			"readinessProbe:\n            grpc:\n              port: 50051\n              service: aiconfig.writes", `readiness probe checks service "aiconfig.writes"`},
		{"a field the API does not have", "deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: true\n            readOnlyRoot: true", "unknown field"},
		{"key files mounted with subPath", "deployment.yaml",
			"mountPath: /etc/aiconfig/keys\n              readOnly: true", "mountPath: /etc/aiconfig/keys/active.key\n              subPath: active.key\n              readOnly: true", "subPath"},
		{"secret key as a literal", "deployment.yaml",
			"- name: AICONFIG_SECRET_KEY_FILE\n              value: /etc/aiconfig/keys/active.key", "- name: AICONFIG_SECRET_KEY\n              value: c2VjcmV0", "literal"},
		{"a misspelt variable", "deployment.yaml", "name: AICONFIG_DRAIN_DELAY", "name: AICONFIG_DRAIN_DELAYS", "AICONFIG_DRAIN_DELAYS: aiconfigd does not read it"},
		{"grace shorter than the drain", "deployment.yaml", "terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: 10", "terminationGracePeriodSeconds 10"},
		{"drain longer than the grace", "deployment.yaml", "value: 5s", "value: 30s", "terminationGracePeriodSeconds 35"},
		{"runs as root", "deployment.yaml", "runAsNonRoot: true\n        runAsUser: 65532", "runAsNonRoot: false\n        runAsUser: 0", "not runAsNonRoot"},
		{"Service targets a port nobody listens on", "service.yaml", "targetPort: metrics", "targetPort: 9090", "targets 9090"},
		{"HTTP beyond loopback without TLS or insecure", "deployment.yaml", "value: \"true\"", "value: \"false\"", "AICONFIG_HTTP_INSECURE"},
		{"the Job's key file missing from the secret", "migrate-job.yaml", "value: /etc/aiconfig/keys/active.key", "value: /etc/aiconfig/keys/current.key", "no key \"current.key\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := readManifests(t)
			if !bytes.Contains(files[tc.file], []byte(tc.old)) {
				t.Fatalf("%s no longer contains %q: update the test", tc.file, tc.old)
			}
			files[tc.file] = bytes.Replace(files[tc.file], []byte(tc.old), []byte(tc.new), 1)
			m, err := decodeManifests(files)
			if err == nil {
				err = checkKubernetes(b, m)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}
