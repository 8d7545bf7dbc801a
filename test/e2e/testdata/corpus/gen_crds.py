#!/usr/bin/env python3
"""Writes operator/crds.yaml: two CustomResourceDefinitions with the kind of large
openAPIV3Schema operators ship (a pod template spelled out field by field, with descriptions),
each well over 300 KB. Run from this directory: python3 gen_crds.py"""
import json

LOREM = ("This field is part of the embedded pod template. It is copied into the pods the "
         "operator creates and follows the semantics of the core Kubernetes API field of the same "
         "name; see the Kubernetes API reference for the details. Cannot be updated once set "
         "unless noted otherwise. ")


def desc(name, n=1):
    return f"{name}: " + LOREM * n


def s(t, name, **kw):
    d = {"type": t, "description": desc(name)}
    d.update(kw)
    return d


def quantity(name):
    return {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True,
            "pattern": r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$",
            "description": desc(name, 1)}


def resources():
    q = {"type": "object", "additionalProperties": quantity("quantity"), "description": desc("limits")}
    return s("object", "resources", properties={"limits": q, "requests": dict(q, description=desc("requests")),
                                                "claims": s("array", "claims", items=s("object", "claim", required=["name"],
                                                            properties={"name": s("string", "name"), "request": s("string", "request")}),
                                                            **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]})})


def probe(name):
    port = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True, "description": desc("port")}
    return s("object", name, properties={
        "exec": s("object", "exec", properties={"command": s("array", "command", items={"type": "string"})}),
        "httpGet": s("object", "httpGet", required=["port"], properties={
            "path": s("string", "path"), "port": port, "host": s("string", "host"),
            "scheme": s("string", "scheme"),
            "httpHeaders": s("array", "httpHeaders", items=s("object", "header", required=["name", "value"],
                             properties={"name": s("string", "name"), "value": s("string", "value")}))}),
        "tcpSocket": s("object", "tcpSocket", required=["port"], properties={"port": port, "host": s("string", "host")}),
        "grpc": s("object", "grpc", required=["port"], properties={"port": s("integer", "port", format="int32"), "service": s("string", "service")}),
        "initialDelaySeconds": s("integer", "initialDelaySeconds", format="int32"),
        "periodSeconds": s("integer", "periodSeconds", format="int32"),
        "timeoutSeconds": s("integer", "timeoutSeconds", format="int32"),
        "successThreshold": s("integer", "successThreshold", format="int32"),
        "failureThreshold": s("integer", "failureThreshold", format="int32"),
        "terminationGracePeriodSeconds": s("integer", "terminationGracePeriodSeconds", format="int64")})


def env_var():
    ref = lambda n: s("object", n, required=["key"], properties={"key": s("string", "key"), "name": s("string", "name", default=""),
                                                             "optional": s("boolean", "optional")}, **{"x-kubernetes-map-type": "atomic"})
    return s("object", "env", required=["name"], properties={
        "name": s("string", "name"), "value": s("string", "value"),
        "valueFrom": s("object", "valueFrom", properties={
            "configMapKeyRef": ref("configMapKeyRef"), "secretKeyRef": ref("secretKeyRef"),
            "fieldRef": s("object", "fieldRef", required=["fieldPath"], properties={"apiVersion": s("string", "apiVersion"), "fieldPath": s("string", "fieldPath")}),
            "resourceFieldRef": s("object", "resourceFieldRef", required=["resource"], properties={
                "containerName": s("string", "containerName"), "divisor": quantity("divisor"), "resource": s("string", "resource")})})})


def security_context():
    return s("object", "securityContext", properties={
        "allowPrivilegeEscalation": s("boolean", "allowPrivilegeEscalation"),
        "capabilities": s("object", "capabilities", properties={"add": s("array", "add", items={"type": "string"}),
                                                               "drop": s("array", "drop", items={"type": "string"})}),
        "privileged": s("boolean", "privileged"), "procMount": s("string", "procMount"),
        "readOnlyRootFilesystem": s("boolean", "readOnlyRootFilesystem"),
        "runAsGroup": s("integer", "runAsGroup", format="int64"), "runAsNonRoot": s("boolean", "runAsNonRoot"),
        "runAsUser": s("integer", "runAsUser", format="int64"),
        "seLinuxOptions": s("object", "seLinuxOptions", properties={k: s("string", k) for k in ["level", "role", "type", "user"]}),
        "seccompProfile": s("object", "seccompProfile", required=["type"], properties={"localhostProfile": s("string", "localhostProfile"), "type": s("string", "type")}),
        "appArmorProfile": s("object", "appArmorProfile", required=["type"], properties={"localhostProfile": s("string", "localhostProfile"), "type": s("string", "type")}),
        "windowsOptions": s("object", "windowsOptions", properties={k: s("string", k) for k in ["gmsaCredentialSpec", "gmsaCredentialSpecName", "runAsUserName"]})})


def container():
    return s("object", "container", required=["name"], properties={
        "name": s("string", "name"), "image": s("string", "image"), "imagePullPolicy": s("string", "imagePullPolicy"),
        "command": s("array", "command", items={"type": "string"}), "args": s("array", "args", items={"type": "string"}),
        "workingDir": s("string", "workingDir"),
        "env": s("array", "env", items=env_var(), **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}),
        "envFrom": s("array", "envFrom", items=s("object", "envFrom", properties={"prefix": s("string", "prefix"),
                     "configMapRef": s("object", "configMapRef", properties={"name": s("string", "name"), "optional": s("boolean", "optional")}),
                     "secretRef": s("object", "secretRef", properties={"name": s("string", "name"), "optional": s("boolean", "optional")})})),
        "ports": s("array", "ports", items=s("object", "port", required=["containerPort"], properties={
            "containerPort": s("integer", "containerPort", format="int32"), "hostIP": s("string", "hostIP"),
            "hostPort": s("integer", "hostPort", format="int32"), "name": s("string", "name"),
            "protocol": s("string", "protocol", default="TCP")}),
            **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["containerPort", "protocol"]}),
        "resources": resources(), "livenessProbe": probe("livenessProbe"), "readinessProbe": probe("readinessProbe"),
        "startupProbe": probe("startupProbe"), "securityContext": security_context(),
        "volumeMounts": s("array", "volumeMounts", items=s("object", "volumeMount", required=["mountPath", "name"], properties={
            "mountPath": s("string", "mountPath"), "mountPropagation": s("string", "mountPropagation"), "name": s("string", "name"),
            "readOnly": s("boolean", "readOnly"), "recursiveReadOnly": s("string", "recursiveReadOnly"),
            "subPath": s("string", "subPath"), "subPathExpr": s("string", "subPathExpr")}),
            **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["mountPath"]}),
        "lifecycle": s("object", "lifecycle", properties={"postStart": probe("postStart"), "preStop": probe("preStop"),
                                                         "stopSignal": s("string", "stopSignal")}),
        "terminationMessagePath": s("string", "terminationMessagePath"),
        "terminationMessagePolicy": s("string", "terminationMessagePolicy"),
        "stdin": s("boolean", "stdin"), "stdinOnce": s("boolean", "stdinOnce"), "tty": s("boolean", "tty")})


def affinity():
    term = s("object", "term", properties={
        "matchExpressions": s("array", "matchExpressions", items=s("object", "req", required=["key", "operator"], properties={
            "key": s("string", "key"), "operator": s("string", "operator"), "values": s("array", "values", items={"type": "string"})})),
        "matchLabels": s("object", "matchLabels", additionalProperties={"type": "string"})})
    pod_term = s("object", "podAffinityTerm", required=["topologyKey"], properties={
        "labelSelector": term, "namespaceSelector": term, "namespaces": s("array", "namespaces", items={"type": "string"}),
        "topologyKey": s("string", "topologyKey")})
    weighted = s("object", "weighted", required=["podAffinityTerm", "weight"], properties={"podAffinityTerm": pod_term, "weight": s("integer", "weight", format="int32")})
    pa = lambda n: s("object", n, properties={"preferredDuringSchedulingIgnoredDuringExecution": s("array", "preferred", items=weighted),
                                             "requiredDuringSchedulingIgnoredDuringExecution": s("array", "required", items=pod_term)})
    return s("object", "affinity", properties={"podAffinity": pa("podAffinity"), "podAntiAffinity": pa("podAntiAffinity"),
                                               "nodeAffinity": s("object", "nodeAffinity", properties={"requiredDuringSchedulingIgnoredDuringExecution": s(
                                                   "object", "nodeSelector", required=["nodeSelectorTerms"], properties={"nodeSelectorTerms": s("array", "terms", items=term)})})})


def volume():
    src = lambda n, props: s("object", n, properties={k: s(t, k) for k, t in props.items()})
    return s("object", "volume", required=["name"], properties={
        "name": s("string", "name"),
        "configMap": src("configMap", {"name": "string", "optional": "boolean", "defaultMode": "integer"}),
        "secret": src("secret", {"secretName": "string", "optional": "boolean", "defaultMode": "integer"}),
        "emptyDir": s("object", "emptyDir", properties={"medium": s("string", "medium"), "sizeLimit": quantity("sizeLimit")}),
        "persistentVolumeClaim": src("persistentVolumeClaim", {"claimName": "string", "readOnly": "boolean"}),
        "hostPath": src("hostPath", {"path": "string", "type": "string"}),
        "projected": s("object", "projected", properties={"defaultMode": s("integer", "defaultMode", format="int32"),
                       "sources": s("array", "sources", items=s("object", "source", properties={
                           "serviceAccountToken": src("serviceAccountToken", {"audience": "string", "expirationSeconds": "integer", "path": "string"})}))})})


def pod_spec(prefix):
    props = {}
    for lst in ["containers", "initContainers"]:
        props[lst] = s("array", prefix + lst, items=container(), **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]})
    props.update({"affinity": affinity(), "volumes": s("array", "volumes", items=volume()),
                  "nodeSelector": s("object", "nodeSelector", additionalProperties={"type": "string"}),
                  "tolerations": s("array", "tolerations", items=s("object", "toleration", properties={k: s("string", k) for k in ["effect", "key", "operator", "value"]})),
                  "serviceAccountName": s("string", "serviceAccountName"), "priorityClassName": s("string", "priorityClassName"),
                  "securityContext": security_context(), "resources": resources()})
    return props


def crd(plural, kind, group, extra):
    spec_props = pod_spec(kind.lower() + ".")
    spec_props.update(extra)
    schema = {"type": "object", "description": desc(kind, 3), "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": s("object", "spec", properties=spec_props),
        "status": s("object", "status", properties={"phase": s("string", "phase"), "replicas": s("integer", "replicas", format="int32"),
                                                     "conditions": s("array", "conditions", items=s("object", "condition", required=["type", "status"],
                                                     properties={k: s("string", k) for k in ["type", "status", "reason", "message", "lastTransitionTime"]}),
                                                     **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]})})}}
    def version(name, storage):
        return {"name": name, "served": True, "storage": storage, "schema": {"openAPIV3Schema": schema},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                                             {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.5"}},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "listKind": kind + "List", "plural": plural, "singular": kind.lower(), "categories": ["corpus"]},
                     "versions": [version("v1", True), version("v1beta1", False)]}}


GROUP = "monitoring.corpus.sherpack.io"
common = {"replicas": s("integer", "replicas", format="int32"), "version": s("string", "version"),
          "retention": s("string", "retention"), "paused": s("boolean", "paused"),
          "externalLabels": s("object", "externalLabels", additionalProperties={"type": "string"}),
          "storage": s("object", "storage", properties={"size": quantity("size"), "storageClassName": s("string", "storageClassName")})}
docs = [crd("collectors", "Collector", GROUP, common), crd("alertrouters", "AlertRouter", GROUP, common)]
with open("operator/crds.yaml", "w") as f:
    f.write("# Generated by gen_crds.py: CRDs the size operators ship (do not edit by hand).\n")
    for d in docs:
        f.write("---\n")
        f.write(json.dumps(d, indent=1, sort_keys=True))
        f.write("\n")
