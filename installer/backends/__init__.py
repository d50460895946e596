"""Backends: how steps reach snapd, Juju, Kubernetes and the hosts. `base` holds the interfaces;
the simulated lab and the real backends implement them."""
