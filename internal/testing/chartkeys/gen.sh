#!/bin/sh
# Regenerates testdata/*.keys from upstream charts checked out under $1.
# The chart directories were laid out from clones of the upstream repositories:
#   git -C karpenter-provider-aws archive c88abbbad charts/karpenter charts/karpenter-crd | tar x -C "$1"
#     (c88abbbad "Stable Release updates Release v1.14.1" = tag v1.14.1 + Chart.yaml version 1.14.1 + image tag)
#   git -C aws-load-balancer-controller archive v3.5.0 helm/aws-load-balancer-controller | tar x -C "$1"
#   git -C k8s-device-plugin archive v0.20.0 deployments/helm/nvidia-device-plugin | tar x -C "$1"
# (helm pull <repo>/<chart> --version <v> --untar gives the same files.)
set -eu
src=${1:?usage: gen.sh <dir holding the upstream chart directories>}
cd "$(dirname "$0")/../.."
gen() { go run ./internal/testing/chartkeys/gen -chart "$src/$1" -source "$2" > "internal/testing/chartkeys/testdata/$3.keys"; }
gen charts/karpenter 'https://github.com/aws/karpenter-provider-aws tag v1.14.1 charts/karpenter (identical to release commit c88abbbad, which sets Chart.yaml version 1.14.1 and the image tag)' karpenter-1.14.1
gen charts/karpenter-crd 'https://github.com/aws/karpenter-provider-aws tag v1.14.1 charts/karpenter-crd (Chart.yaml version 1.14.1 set by release commit c88abbbad)' karpenter-crd-1.14.1
gen helm/aws-load-balancer-controller 'https://github.com/kubernetes-sigs/aws-load-balancer-controller tag v3.5.0 helm/aws-load-balancer-controller (same values.yaml as aws/eks-charts stable/aws-load-balancer-controller at v0.0.242)' aws-load-balancer-controller-3.5.0
gen deployments/helm/nvidia-device-plugin 'https://github.com/NVIDIA/k8s-device-plugin tag v0.20.0 deployments/helm/nvidia-device-plugin (Helm repo https://nvidia.github.io/k8s-device-plugin)' nvidia-device-plugin-0.20.0
