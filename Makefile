# Every target runs with Node.js 24 first on PATH (fetched from the npm registry when the machine's is older)
# and with the locally built control-plane binaries (or the user's own KUBEBUILDER_ASSETS).
SHELL := /bin/bash
CACHE ?= $(HOME)/.cache/mfa-operator
export MFA_OPERATOR_CACHE := $(CACHE)
NODE_BIN := $(shell hack/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)
KUBERNETES_VERSION ?= $(shell cat hack/control-plane/KUBERNETES_VERSION 2>/dev/null)
export KUBEBUILDER_ASSETS ?= $(CACHE)/k8s/$(KUBERNETES_VERSION)
# The node's binaries (kubelet, kube-proxy, the other controllers, containerd, the sandbox image).
export MFA_NODE_ASSETS ?= $(CACHE)/k8s/$(KUBERNETES_VERSION)-node
# The image `make image` builds and the local cluster runs.
IMG ?= localhost/mfa-operator:dev
export MFA_IMAGE := $(IMG)
# The demo app's test image, which the end-to-end suites run in the local cluster (never shipped).
DEMO_APP_IMG ?= localhost/mfa-operator-demo-app:dev
export MFA_DEMO_APP_IMAGE := $(DEMO_APP_IMG)

.PHONY: all help deps build generate verify typecheck lint test test-setup test-unit control-plane node node-packages image demo-app-image test-cluster chromium test-tools demo dev run clean

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

# npm ci only when the lockfile's content changed (its hash is kept beside the packages), not when a checkout or
# a worktree merely touched it: npm ci empties node_modules first, even one shared through a symlink.
node_modules/.package-lock.json: package.json package-lock.json
	@if [ "$$(cat node_modules/.mfa-lock-sha256 2>/dev/null)" != "$$(sha256sum package.json package-lock.json | sha256sum)" ]; then \
	  npm ci --no-audit --no-fund && sha256sum package.json package-lock.json | sha256sum > node_modules/.mfa-lock-sha256; fi
	@touch $@

deps: node_modules/.package-lock.json

control-plane: ## build kube-apiserver and etcd from Go modules into $(KUBEBUILDER_ASSETS) unless present
	hack/control-plane/build.sh "$(KUBEBUILDER_ASSETS)"

node-packages: ## Debian runc, CNI plugins, iptables, conntrack, podman, mmdebstrap (root)
	hack/control-plane/ensure-node-packages.sh

node: control-plane node-packages ## kubelet, kube-proxy, controller-manager, scheduler, containerd, pause into $(MFA_NODE_ASSETS)
	hack/control-plane/build-node.sh "$(MFA_NODE_ASSETS)"

image: node-packages ## the Dockerfile built with podman on a local base, as $(IMG)
	hack/image/build.sh "$(IMG)"

demo-app-image: image ## the demo app's test image (test/apps/demo/Containerfile) as $(DEMO_APP_IMG)
	hack/image/build-demo-app.sh "$(DEMO_APP_IMG)"

# The tests that need root: the image itself, the one-node cluster that runs it, and the end-to-end
# suites, whose run Jobs are pods on that cluster.
test-cluster: deps node image demo-app-image build ## (root) the image, the one-node cluster and the end-to-end suites on it
	MFA_DIST_BUILT=1 npx vitest run test/image test/cluster test/e2e through-operator

# One apt-get at a time on the host: the set-up below runs in parallel, and these three each call apt-get.
chromium: node-packages
	hack/ensure-chromium.sh

test-tools: chromium ## helm, kubeconform, hadolint, promtool (packaging tests), the pinned Keycloak, django-allauth, django-two-factor-auth and Gitea (real-app tests), cached
	hack/ensure-helm-tools.sh
	hack/fetch-keycloak.sh
	hack/fetch-python-app.sh allauth
	hack/fetch-python-app.sh django-two-factor
	hack/fetch-gitea.sh

generate: deps ## regenerate the TypeScript API types and config/crd/bases from crds/ (sources only)
	npm run --silent generate

verify: deps ## fail when generated files drifted from crds/
	npm run --silent verify-generated

typecheck: deps
	npm run --silent typecheck

lint: deps
	npm run --silent lint

build: deps
	npm run --silent build

test-unit: deps ## the vitest project unit: tests that start nothing and build nothing, any user, under a minute
	npx vitest run --project unit

# dist/ is built first: run Jobs execute dist/operator/runner/main.js, as in the image.
# node and image are for test/image and test/cluster, which need root (CI runs as root).
# The set-up runs three at a time: the Go builds keep both cores busy while the image, the apps and the
# packages mostly wait on the registries (docs/benchmarks.md, "A fresh machine"). Each target's
# output is printed in one piece when it ends.
test: ## everything CI runs (root: the node and the image)
	$(MAKE) --no-print-directory -j3 --output-sync=target test-setup
	MFA_DIST_BUILT=1 npm test

test-setup: deps control-plane node image demo-app-image chromium test-tools verify typecheck lint build

demo: deps node image demo-app-image build ## (root) the whole product on a one-node cluster and the demo app, then a code that signs in
	node hack/dev/demo.ts $(DEMO_ARGS)

dev: deps node image build ## (root) the operator on a one-node cluster with any connector: CONNECTOR= LOGIN_URL= USERNAME_FILE= PASSWORD_FILE=
	CONNECTOR='$(CONNECTOR)' LOGIN_URL='$(LOGIN_URL)' USERNAME_FILE='$(USERNAME_FILE)' PASSWORD_FILE='$(PASSWORD_FILE)' node hack/dev/run-local.ts $(DEV_ARGS)

run: build ## run the operator against the cluster of the current kubeconfig
	node dist/operator/main.js

clean:
	rm -rf dist node_modules
