"""Where the answers' `proxy`, `deployment.region` and `network.dns_servers` go, as in Sunbeam.

Reference: ../shared/reference/sunbeam-deployment.md.
- Proxy, §5.1: `PromptForProxyStep` keeps the proxy during `sunbeam cluster bootstrap`; it then
  reaches snapd on every node (prepare-node-script, §5.0 step 5, checks the store through it),
  the Juju models as model config (`BootstrapJujuStep` passes `--model-default`, §5.1 plan4;
  `AddJujuModelStep` creates `openstack-machines` with it, §5.1 plan2; the `openstack` model
  gets it from terraform, §5.4), and sunbeam-machine, which prepares each host (§2.2).
  The model keys are Sunbeam's (`convert_proxy_to_model_configs`): juju-http-proxy,
  juju-https-proxy, juju-no-proxy and the snap proxies snap-http-proxy, snap-https-proxy.
- Region, §5.1: `PromptRegionStep`; the region is keystone's `region` config (§2.1 keystone row).
- DNS servers, §5.2: `sunbeam configure` asks the external network's nameservers
  (`LocalUserQuestions`, `DemoSetup`); they become the external subnet's DNS servers.
"""

from __future__ import annotations

from manifests.answers import Answers

SYSTEM_SNAP = "system"  # snapd's pseudo-snap for system options: `snap set system proxy.http=…`


def _proxy_settings(
    answers: Answers, http: tuple[str, ...], https: tuple[str, ...], no_proxy: str
) -> dict[str, str]:
    """The answers' proxy under one consumer's key names; no_proxy only beside a proxy."""
    p = answers.proxy
    values: dict[str, str] = {}
    for keys, url in ((http, p.http), (https, p.https)):
        if url:
            values.update(dict.fromkeys(keys, url))
    if values and p.no_proxy:
        values[no_proxy] = p.no_proxy
    return values


def snap_proxy(answers: Answers) -> dict[str, str]:
    """snapd's system options for the proxy (`snap set system proxy.http=… proxy.https=…`)."""
    return _proxy_settings(answers, ("proxy.http",), ("proxy.https",), "proxy.no-proxy")


def model_proxy(answers: Answers) -> dict[str, str]:
    """Juju model config for the proxy, as Sunbeam's convert_proxy_to_model_configs sets it."""
    return dict(sorted(_proxy_settings(
        answers, ("juju-http-proxy", "snap-http-proxy"), ("juju-https-proxy", "snap-https-proxy"),
        "juju-no-proxy").items()))


def machine_proxy(answers: Answers) -> dict[str, str]:
    """sunbeam-machine's proxy config (it writes them to the host's /etc/environment)."""
    return _proxy_settings(answers, ("http_proxy",), ("https_proxy",), "no_proxy")


# Charms of the control plane with a `region` option (keystone-k8s: the region its catalogue
# registers every endpoint in).
REGION_CHARMS = ("keystone-k8s",)
