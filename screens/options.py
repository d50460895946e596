"""Options: OpenStack release, deployment name and region, proxy, optional features."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Select, SelectionList

from screens.base import WizardScreen
from screens.fields import Field, field_check
from screens.toggles import GlyphSelectionList


class OptionsScreen(WizardScreen):
    NAME = "options"
    TITLE_TEXT = "Options"
    HELP = """\
Deployment name: prefixes the Juju models (sunbeam unless you run several clouds); region:
the OpenStack region name clients ask for (RegionOne unless you need another).
Proxy: leave empty for direct access. With a proxy, the no-proxy list must cover the management
CIDR, the load-balancer range and every host name (preflight checks it).
Features: optional services (Space toggles). Release: the OpenStack release to deploy."""

    def body(self) -> ComposeResult:
        d = self.session.draft
        with VerticalScroll(id="body"):
            yield Label("OpenStack release")
            yield Select([(r, r) for r in self.session.release_names()], value=d.release,
                         allow_blank=False, id="release", compact=True)
            yield Field("Deployment name", d.deployment_name, field_check("deployment.name"),
                        id="deployment-name")
            yield Field("Region", d.region, field_check("deployment.region"), id="region")
            yield Field("HTTP proxy (optional)", d.proxy_http,
                        field_check("proxy.http", required=False), id="proxy-http",
                        placeholder="e.g. http://proxy.example:3128")
            yield Field("HTTPS proxy (optional)", d.proxy_https,
                        field_check("proxy.https", required=False), id="proxy-https")
            yield Field("No-proxy list (optional)", d.no_proxy,
                        field_check("proxy.no_proxy", required=False), id="no-proxy")
            yield Label("Features ([b]Space[/b] toggles)", markup=True)
            features = self.session.feature_names()
            yield GlyphSelectionList(
                *[(f"{name}: {desc}", name, name in d.features) for name, desc in features.items()],
                id="features",
            )

    def on_mount(self) -> None:
        if self.session.converging:
            # Adding hosts to a deployed cloud keeps these as deployed (Review lists them):
            # read-only here; another release is `sunbeam-install upgrade`.
            for name in ("release", "deployment-name", "region", "proxy-http", "proxy-https",
                         "no-proxy"):
                self.query_one(f"#{name}").disabled = True
            self.query_one("#features").focus()
            return
        self.query_one("#release").focus()

    def store(self) -> None:
        d = self.session.draft
        release = self.query_one("#release", Select).value
        if isinstance(release, str):
            d.release = release
        d.deployment_name = self.query_one("#deployment-name-field", Field).text.strip()
        d.region = self.query_one("#region-field", Field).text.strip()
        d.proxy_http = self.query_one("#proxy-http-field", Field).text
        d.proxy_https = self.query_one("#proxy-https-field", Field).text
        d.no_proxy = self.query_one("#no-proxy-field", Field).text
        d.features = list(self.query_one("#features", SelectionList).selected)

    def problem(self) -> str | None:
        for name in ("deployment-name", "region", "proxy-http", "proxy-https", "no-proxy"):
            error = self.query_one(f"#{name}-field", Field).error()
            if error:
                return error
        return None
