"""Network: management CIDR (from the probed facts), load-balancer range, DNS, and the optional
external network with the NIC each compute host uses for it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, DataTable, Input, Static

from installer.interactive.fields import check_address_list
from installer.interactive.probing import management_nic
from screens.base import WizardScreen
from screens.fields import Field, field_check
from screens.hosttext import cell
from screens.toggles import GlyphCheckbox

EXTERNAL_FIELDS = ("external-cidr", "external-gateway", "external-range", "external-vlan")
# Where a rule of the answers file about networks shows on this screen (by the rule's path).
RULE_FIELDS: dict[tuple[str | int, ...], str] = {
    ("network", "loadbalancer_range"): "lb-range",
    ("network", "external", "cidr"): "external-cidr",
    ("network", "external", "gateway"): "external-gateway",
    ("network", "external", "allocation_range"): "external-range",
}


def rule_field(path: tuple[str | int, ...]) -> str:
    """The field a rule's message belongs under; host addresses are fixed by the CIDR here."""
    return RULE_FIELDS.get(path, "management-cidr")


class NetworkScreen(WizardScreen):
    NAME = "network"
    TITLE_TEXT = "Network"
    HELP = """\
Management CIDR: the network of the hosts' management addresses (filled in from this host).
Load-balancer range: free addresses in that network, START-END, for the OpenStack API
endpoints. DNS servers: comma-separated, optional.
External network (optional): the provider network for floating IPs, with its gateway, the range
handed to instances and an optional VLAN. Then, in the table, pick each compute host's NIC
cabled to it (Space selects; the management NIC is marked and best avoided)."""
    WIDGET_HELP: ClassVar[dict[str, tuple[str, str]]] = {
        "management-cidr": ("Management CIDR", "The network the hosts' management addresses are "
                            "in, in CIDR notation such as 10.20.0.0/24. Filled in from this "
                            "host's default-route NIC; every host's address must be inside it."),
        "lb-range": ("Load-balancer range", "START-END, e.g. 10.20.0.200-10.20.0.220: free "
                     "addresses inside the management CIDR that Kubernetes hands to the "
                     "OpenStack API endpoints (the first one is the dashboard). It must not "
                     "hold any host's address; about 20 addresses are enough."),
        "dns": ("DNS servers", "Upstream DNS servers for the cloud, comma-separated IP "
                "addresses (e.g. 10.20.0.1, 1.1.1.1). Leave it empty to use the hosts' own."),
        "external": ("External network", "Tick it to give instances floating IPs on a provider "
                     "network cabled to the compute hosts; leave it off for a cloud whose "
                     "instances are reached only from inside."),
        "external-cidr": ("External CIDR", "The provider network in CIDR notation, e.g. "
                          "172.16.2.0/24; not the management network."),
        "external-gateway": ("External gateway", "The router of the external network, inside "
                             "its CIDR and outside the allocation range, e.g. 172.16.2.1."),
        "external-range": ("Allocation range", "START-END inside the external CIDR: the "
                           "floating IPs OpenStack hands out, e.g. 172.16.2.100-172.16.2.200."),
        "external-vlan": ("VLAN", "The 802.1Q tag of the external network (1-4094), or empty "
                          "when the NIC carries it untagged."),
        "nics": ("External NIC table", "One row per NIC of each compute host: link state, speed "
                 "and addresses. Space (or Enter) picks the NIC cabled to the external network "
                 "for that host; picking it again clears it. * marks the management NIC: using "
                 "it for the external network takes its addresses away."),
    }
    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "pick_nic", "Pick NIC", show=False)]

    def body(self) -> ComposeResult:
        d = self.session.draft
        with VerticalScroll(id="body"):
            yield Field("Management CIDR", d.management_cidr,
                        field_check("network.management_cidr"), id="management-cidr",
                        placeholder="e.g. 10.20.0.0/24")
            yield Field("Load-balancer range (START-END)", d.loadbalancer_range,
                        field_check("network.loadbalancer_range"), id="lb-range",
                        placeholder="e.g. 10.20.0.200-10.20.0.220")
            yield Field("DNS servers (optional)", d.dns_servers,
                        lambda v: check_address_list("DNS servers", v), id="dns")
            yield GlyphCheckbox("External network for floating IPs", d.external_enabled,
                           id="external", compact=True)
            yield Field("External CIDR", d.external_cidr, field_check("external.cidr"),
                        id="external-cidr", placeholder="e.g. 172.16.2.0/24")
            yield Field("External gateway", d.external_gateway, field_check("external.gateway"),
                        id="external-gateway", placeholder="e.g. 172.16.2.1")
            yield Field("Allocation range (START-END)", d.external_range,
                        field_check("external.allocation_range"), id="external-range",
                        placeholder="e.g. 172.16.2.100-172.16.2.200")
            yield Field("VLAN (optional)", d.external_vlan,
                        field_check("external.vlan", required=False), id="external-vlan")
            yield Static("External NIC per compute host ([b]Space[/b] picks; "
                         "[b]*[/b] = management NIC)", markup=True, id="nic-label")
            nics: DataTable[Text | str] = DataTable(id="nics", cursor_type="row")
            yield nics

    def on_mount(self) -> None:
        table = self.query_one("#nics", DataTable)
        for c in ("Host", "NIC", "Link", "Speed", "Addresses", "Use"):
            table.add_column(c, key=c)
        facts = self.session.facts_by_host()
        for h in self.session.draft.hosts:
            f = facts.get(h.name)
            if "compute" not in h.roles or f is None:
                continue
            mgmt = management_nic(f)
            for n in f.nics:
                if n.kind in ("loopback", "veth", "tun"):
                    continue
                link = "up" if n.carrier else n.state
                speed = f"{n.speed_mbps // 1000}G" if n.speed_mbps and n.speed_mbps >= 1000 \
                    else (f"{n.speed_mbps}M" if n.speed_mbps else "")
                addrs = ", ".join(str(i) for i in n.ipv4) or "-"
                # NIC names and states are the host's words: shown escaped, never as markup.
                name = cell(n.name + (" *" if n.name == mgmt else ""),
                            style="dim" if n.name == mgmt else "")
                table.add_row(cell(h.name), name, cell(link), speed, cell(addrs),
                              self._use(h.name, n.name),
                              key=f"{h.name}/{n.name}")
        self._external_visible(self.session.draft.external_enabled)
        if self.session.converging:
            # A deployed cloud's networks stay as installed (Review lists them): read-only
            # here; only the new compute hosts' external NICs are chosen.
            for kept in ("management-cidr", "lb-range", "dns", "external", "external-cidr",
                         "external-gateway", "external-range", "external-vlan"):
                self.query_one(f"#{kept}").disabled = True
            self.query_one("#nics").focus()
            return
        self.query_one("#management-cidr").focus()

    def _use(self, host: str, nic: str) -> Text:
        h = self.session.draft.host(host)
        return Text("(•)", style="bold green") if h and h.external_nic == nic else Text("( )")

    def _external_visible(self, on: bool) -> None:
        for name in (*EXTERNAL_FIELDS, "nic-label"):
            widget = self.query_one(f"#{name}-field" if name != "nic-label" else "#nic-label")
            widget.display = on
        self.query_one("#nics").display = on

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "external":
            self.session.draft.external_enabled = event.value
            self._external_visible(event.value)
            self._show_rules()

    def on_input_changed(self, event: Input.Changed) -> None:
        # After the field's own check (Field handles the event first): the rules that relate
        # fields to each other, with the same messages `validate` gives for the answers file.
        self._show_rules()

    def _rule_messages(self) -> dict[str, str]:
        self.store()
        messages: dict[str, str] = {}
        for path, message in self.session.network_problems().items():
            messages.setdefault(rule_field(path), message)
        return messages

    def _show_rules(self) -> None:
        messages = self._rule_messages()
        for field in self.query(Field):
            # An empty field is not nagged about while typing elsewhere; Next says it is needed.
            own = field.error() if field.text.strip() else None
            field.show(own or messages.get(field.input_id))

    def action_pick_nic(self) -> None:
        table = self.query_one("#nics", DataTable)
        if not table.has_focus or table.row_count == 0:
            return
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        host_name, nic = key.split("/", 1)
        host = self.session.draft.host(host_name)
        if host is None:
            return
        host.external_nic = None if host.external_nic == nic else nic
        for row in list(table.rows):
            if str(row.value).startswith(host_name + "/"):
                table.update_cell(row, "Use", self._use(host_name, str(row.value).split("/", 1)[1]))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_pick_nic()

    def store(self) -> None:
        d = self.session.draft
        d.management_cidr = self.query_one("#management-cidr-field", Field).text
        d.loadbalancer_range = self.query_one("#lb-range-field", Field).text
        d.dns_servers = self.query_one("#dns-field", Field).text
        d.external_cidr = self.query_one("#external-cidr-field", Field).text
        d.external_gateway = self.query_one("#external-gateway-field", Field).text
        d.external_range = self.query_one("#external-range-field", Field).text
        d.external_vlan = self.query_one("#external-vlan-field", Field).text

    def problem(self) -> str | None:
        names = ["management-cidr", "lb-range", "dns"]
        if self.session.draft.external_enabled:
            names += list(EXTERNAL_FIELDS)
        rules = self._rule_messages()
        for name in names:
            field = self.query_one(f"#{name}-field", Field)
            error = field.error() or rules.get(name)
            if error:
                field.show(error)  # under the field too, not only in the status line
                field.query_one("Input").focus()
                return error
        return None
