"""Standard-library-only host readers: the probe code that runs both here and on remote hosts.

Everything in this package must import with nothing but Python 3.8+'s standard library, because
`probes.remote` sends these very modules to each SSH host and runs them there as `python3 -`.
Readers return plain JSON-able dicts shaped like `probes.facts.HostFacts`; validation into the
pydantic models happens on the installer's side (`probes.local`, `probes.remote`).
"""
