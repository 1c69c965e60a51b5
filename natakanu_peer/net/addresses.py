"""Addresses at which this peer may be reached, for the hints carried in invitations.

This module must never contact anything: it only reads the machine's own interfaces.
"""

from __future__ import annotations

import ipaddress

import ifaddr


def reachable_addresses(listen: tuple[str, int], port: int | None) -> list[str]:
    """``host:port`` strings a peer could dial, most useful first (at most 8).

    A peer listening on one address is reached there; one listening on every interface
    (0.0.0.0) at each private IPv4 address of the machine, then the others; loopback only
    when there is nothing else (a peer alone on one machine, as in tests).
    """
    if port is None:
        return []
    host = listen[0]
    if host not in ("0.0.0.0", "", "::"):
        return [f"{host}:{port}"]
    private: list[str] = []
    public: list[str] = []
    loopback: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6 entries are tuples; links are made over IPv4 here
            address = ipaddress.IPv4Address(ip.ip)
            if address.is_loopback:
                loopback.append(ip.ip)
            elif address.is_link_local:
                continue
            elif address.is_private:
                private.append(ip.ip)
            else:
                public.append(ip.ip)
    chosen = private + public or loopback
    return [f"{a}:{port}" for a in dict.fromkeys(chosen)][:8]
