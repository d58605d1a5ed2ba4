"""The demo dataset's words: brands, model names, release notes, people; fictional, and fixed."""

from __future__ import annotations

from typing import Final

from loaders.vocabulary import Urgency

BRANDS: Final = (
    "Northwind", "Bluefield", "Harrowgate", "Kestrel", "Ashdown", "Brackenridge", "Calderwood",
    "Dunmore", "Elmstead", "Fenwick", "Glenholm", "Hawthorne", "Ivybridge", "Juniper", "Kingsmere",
    "Larkspur", "Marlowe", "Netherby", "Oakhurst", "Pennant", "Quarrington", "Redwater", "Stonebridge",
    "Thornbury", "Upperton", "Valemont", "Westcombe", "Yarrow", "Zephyr", "Amberline", "Beacon",
    "Cobalt", "Driftwood", "Emberly", "Foxglove", "Greystone", "Heron", "Ironbridge", "Lowther",
    "Millbrook", "Ormsby", "Pembury", "Rosedale", "Saltmarsh", "Tidewell",
)  # fmt: skip
SUFFIXES: Final = (
    "Metering Ltd", "Smart Meters Ltd", "Energy Devices plc", "Meter Systems Ltd",
    "Metering Technologies Ltd", "Controls Ltd", "Instruments Ltd", "Electronics Ltd",
)  # fmt: skip
REGIONS: Final = ("UK", "Scotland", "Wales", "Northern", "Southern", "Midlands", "Anglia", "Pennine")

MODEL_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "ESME": (
        "{b} {c} Single Phase Credit ESME", "{b} {c} Polyphase ESME", "{b} {c} Twin Element ESME",
        "{b} {c} Single Phase Smart Electricity Meter",
    ),
    "GSME": ("{b} {c} U6 Gas Smart Meter", "{b} {c} Ultrasonic GSME", "{b} {c} Diaphragm Gas Smart Meter"),
    "CHF": (
        "{b} {c} Communications Hub (North)", "{b} {c} Communications Hub (Central and South)",
        "{b} {c} Dual Band Communications Hub",
    ),
    "GPF": ("{b} {c} Gas Proxy Function",),
    "PPMID": ("{b} {c} Prepayment Meter Interface Device", "{b} {c} PPMID Keypad Display"),
    "HCALCS": ("{b} {c} Auxiliary Load Control Switch", "{b} {c} Boost Switch (HCALCS)"),
    "IHD": ("{b} {c} Colour In-Home Display", "{b} {c} In-Home Display"),
    "CAD": ("{b} {c} Consumer Access Device", "{b} {c} Energy Bridge CAD"),
}  # fmt: skip


NOTES: Final[dict[str, tuple[str, ...]]] = {
    "ESME": (
        "Fixes incorrect rounding of the import energy register on time-of-use tariffs.",
        "Corrects load limiting so that supply is restored after the configured period.",
        "Improves the accuracy of instantaneous active power readings at low loads.",
        "Fixes a supply interruption event not being logged after a load limiting trip.",
    ),
    "GSME": (
        "Extends battery life by reducing HAN wake-ups while the valve is closed.",
        "Fixes the valve staying closed after emergency credit is activated.",
        "Corrects the calorific value applied after a tariff update.",
    ),
    "CHF": (
        "Improves SM WAN reconnection after a mobile network outage.",
        "Fixes alerts being dropped when the GPF mirror is full.",
        "Improves mesh routing resilience in dense multi-occupancy buildings.",
    ),
    "GPF": (
        "Fixes stale gas consumption served to the IHD after the GSME reconnects.",
        "Improves synchronisation of the GSME mirror after a power cut.",
    ),
    "PPMID": (
        "Fixes the display of debt recovery rates on prepayment tariffs.",
        "Simplifies accepting emergency credit from the keypad.",
        "Corrects entry of 20-digit top-up codes (UTRN).",
    ),
    "HCALCS": (
        "Applies the randomised offset to scheduled switching as the specification requires.",
        "Fixes relay state reporting after power restoration.",
    ),
    "IHD": (
        "Improves the readability of the cost-today screen.",
        "Fixes the gas consumption graph showing zero after a Change of Supplier.",
        "Adds display of exported energy for homes with solar generation.",
    ),
    "CAD": (
        "Improves reconnection to the Communications Hub after a hub firmware upgrade.",
        "Fixes the consumption feed stalling after 24 hours of uptime.",
        "Reduces standby power consumption.",
    ),
}
COMMON_NOTES: Final = (
    "Improves the reliability of joining the HAN after a Change of Supplier.",
    "Reduces the time taken to process Change of Tenancy commands.",
    "Corrects alert timestamps raised immediately after a power restoration.",
    "Improves handling of long GBCS command sequences from the DCC.",
    "Fixes a rare watchdog reset during firmware image activation.",
    "Improves event log retention across power cycles.",
)
SECURITY_NOTES: Final = (
    "Addresses a vulnerability in the handling of malformed ZigBee frames.",
    "Hardens the verification of signed commands against replay.",
    "Disables a debug interface that could expose key material in production builds.",
    "Addresses a denial-of-service weakness in the GBCS message parser.",
)
WITHDRAWN_REASONS: Final = (
    "Field reports of devices failing to rejoin the HAN after activation; withdrawn pending investigation.",
    "Regression in tariff switching found during supplier testing; superseded by the next release.",
    "Withdrawn at the manufacturer's request after a Change of Supplier processing fault.",
)
URGENCIES: Final = tuple(Urgency)


FIRST_NAMES: Final = (
    "Aisha", "Ben", "Catriona", "Dev", "Eleanor", "Femi", "Gareth", "Hannah", "Imran", "Joanna",
    "Kieran", "Lowri", "Mohammed", "Niamh", "Owen", "Priya", "Rhys", "Sian", "Tom", "Una", "Vikram",
    "Wendy", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES: Final = (
    "Ahmed", "Baxter", "Campbell", "Davies", "Evans", "Fraser", "Gill", "Hughes", "Iqbal", "Jones",
    "Kaur", "Lloyd", "MacLeod", "Nowak", "O'Brien", "Patel", "Quinn", "Reid", "Singh", "Thomas",
    "Walsh", "Young",
)  # fmt: skip
