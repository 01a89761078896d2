"""Word and emoji norms for what the thesaurus lacks: events, scenes, bodies, emoji.

People rarely name their emotion; they say what happened ("I lost the baby",
"we won"). These tables give such words a place in PAD space. They were
written for this project (MIT, like the rest of it), not copied from a
published norms set: NRC-VAD and Warriner et al. (2013) have non-commercial or
unclear redistribution terms, and no permissively licensed valence/arousal/
dominance norms were found on PyPI or in Debian. Valence words are also scored
by VADER (MIT, :mod:`kelly_actors.composer.emotion.cues`); the main work of
these norms is **arousal** and **dominance**, which VADER does not give.

Each line of the tables is ``word valence arousal dominance`` with the
project's ranges (valence −1…1, arousal and dominance 0…1); valence ``.``
means the word says how activated a scene is but not whether it is good
("quiet", "shaking"), so it weighs on arousal and dominance only. Multi-word
entries join their words with ``_``. Placement follows the thesaurus's
conventions: loss and tiredness are slow (arousal < 0.5), threat, conflict,
hurry and celebration are fast; being done to lowers dominance, winning raises
it. Word forms are listed where suffix stripping (see ``text._lemma_candidates``)
would not find them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# Loss, illness, death, separation: negative, slow, little control.
_LOSS = """
died -0.75 0.3 0.15
die -0.7 0.35 0.15
dying -0.75 0.35 0.15
dead -0.7 0.3 0.2
death -0.75 0.3 0.15
funeral -0.7 0.25 0.2
grave -0.6 0.25 0.25
cemetery -0.5 0.2 0.3
buried -0.6 0.25 0.2
passed_away -0.75 0.3 0.15
put_down -0.6 0.3 0.2
miscarriage -0.85 0.3 0.1
cancer -0.75 0.4 0.15
tumour -0.7 0.4 0.15
tumor -0.7 0.4 0.15
terminal -0.7 0.35 0.15
diagnosis -0.4 0.5 0.25
sick -0.5 0.3 0.25
ill -0.5 0.3 0.25
illness -0.55 0.3 0.2
disease -0.6 0.35 0.2
hospice -0.6 0.25 0.2
widow -0.6 0.25 0.2
lost -0.5 0.35 0.2
lose -0.45 0.4 0.25
losing -0.5 0.4 0.2
gone -0.4 0.3 0.25
over -0.15 0.35 0.35
divorce -0.55 0.4 0.25
divorced -0.5 0.35 0.3
breakup -0.55 0.4 0.25
broke_up -0.55 0.4 0.25
dumped -0.55 0.4 0.2
moved_out -0.25 0.3 0.35
left_me -0.6 0.35 0.15
miss -0.5 0.3 0.3
missed -0.3 0.4 0.35
forgotten -0.45 0.25 0.2
forgot -0.3 0.4 0.3
ignored -0.45 0.35 0.2
rejected -0.55 0.35 0.2
rejection -0.5 0.35 0.2
fired -0.55 0.45 0.15
laid_off -0.55 0.4 0.15
unemployed -0.5 0.3 0.2
failed -0.55 0.35 0.2
fail -0.5 0.4 0.25
failure -0.55 0.35 0.2
debt -0.5 0.45 0.2
bills -0.3 0.45 0.3
savings . 0.3 0.5
evicted -0.6 0.5 0.15
grey -0.2 0.2 0.4
gray -0.2 0.2 0.4
rain -0.1 0.3 0.45
rained -0.15 0.3 0.45
raining -0.15 0.3 0.45
cold -0.2 0.35 0.4
dark -0.25 0.35 0.35
heavy -0.35 0.25 0.3
weight -0.2 0.3 0.3
flat -0.3 0.15 0.35
dead_inside -0.6 0.1 0.2
cried -0.55 0.4 0.25
cry -0.5 0.45 0.25
sobbing -0.65 0.5 0.2
sigh -0.25 0.2 0.35
whatever -0.25 0.25 0.4
"""

# Threat, conflict, hurry, injustice: negative, fast.
_THREAT = """
stole -0.55 0.75 0.3
stolen -0.55 0.75 0.3
steal -0.5 0.7 0.35
robbed -0.6 0.8 0.2
burglar -0.6 0.8 0.2
broke_into -0.6 0.85 0.2
attack -0.65 0.85 0.3
attacked -0.7 0.85 0.2
hit -0.45 0.75 0.45
punched -0.6 0.85 0.35
beat -0.4 0.75 0.5
yelled -0.5 0.8 0.35
yelling -0.5 0.8 0.35
shouted -0.45 0.8 0.4
shouting -0.45 0.8 0.4
scream -0.5 0.85 0.35
screamed -0.5 0.85 0.35
screaming -0.5 0.85 0.35
fight -0.45 0.8 0.5
fighting -0.45 0.8 0.5
argument -0.4 0.7 0.45
lied -0.5 0.7 0.4
lie -0.4 0.6 0.4
liar -0.55 0.7 0.5
lying -0.45 0.65 0.4
cheated -0.6 0.75 0.3
cheating -0.55 0.7 0.3
betrayed -0.7 0.7 0.2
unfair -0.5 0.7 0.4
insulted -0.5 0.75 0.3
bullied -0.6 0.7 0.15
mocked -0.5 0.7 0.2
laughed_at -0.5 0.7 0.2
called_me_names -0.5 0.7 0.2
fire -0.5 0.85 0.25
smoke -0.3 0.7 0.35
crash -0.55 0.85 0.2
crashed -0.55 0.85 0.2
accident -0.55 0.8 0.2
skidded -0.4 0.8 0.2
gun -0.6 0.85 0.25
gunshot -0.7 0.9 0.15
shot -0.5 0.85 0.2
knife -0.5 0.8 0.25
blood -0.45 0.75 0.3
bleeding -0.5 0.8 0.2
ambulance -0.5 0.8 0.2
emergency -0.55 0.85 0.2
urgent -0.35 0.8 0.3
urgently -0.35 0.8 0.3
danger -0.55 0.85 0.2
dangerous -0.5 0.8 0.25
threat -0.5 0.8 0.25
threatened -0.55 0.8 0.2
following_me -0.45 0.8 0.2
police -0.2 0.7 0.4
deadline -0.3 0.75 0.35
deadlines -0.3 0.75 0.35
late -0.3 0.7 0.35
exam -0.2 0.7 0.4
interview -0.1 0.7 0.4
presentation -0.1 0.7 0.45
shaking -0.3 0.8 0.2
trembling -0.35 0.8 0.2
racing -0.2 0.8 0.35
sweating -0.2 0.75 0.3
cancelled -0.4 0.65 0.25
canceled -0.4 0.65 0.25
delayed -0.3 0.6 0.3
broken -0.4 0.55 0.3
traffic -0.3 0.65 0.35
noise -0.3 0.7 0.35
blasting -0.35 0.8 0.35
loudly -0.2 0.75 0.45
crowd . 0.7 0.35
fever -0.4 0.65 0.25
locked_out -0.4 0.7 0.2
ruining -0.5 0.7 0.35
ruined -0.55 0.65 0.3
killing -0.5 0.8 0.3
wrecked -0.5 0.6 0.25
help -0.1 0.75 0.25
again -0.15 0.6 0.35
why -0.15 0.65 0.35
stop -0.3 0.7 0.5
get_out -0.55 0.85 0.65
leave_me_alone -0.5 0.75 0.6
kidding -0.2 0.7 0.5
done -0.1 0.6 0.55
"""

# Good news, celebration, play: positive, fast, in control.
_CELEBRATION = """
won 0.75 0.8 0.85
win 0.7 0.8 0.8
winning 0.7 0.8 0.8
winner 0.7 0.75 0.8
scored 0.65 0.85 0.75
champion 0.75 0.8 0.85
final 0.2 0.75 0.55
celebrate 0.75 0.8 0.65
celebrating 0.75 0.8 0.65
celebration 0.75 0.8 0.65
party 0.6 0.8 0.6
birthday 0.5 0.7 0.55
wedding 0.65 0.7 0.55
married 0.6 0.65 0.6
engaged 0.6 0.7 0.6
baby . 0.55 0.45
best_friend . 0.5 0.5
promotion 0.65 0.7 0.75
promoted 0.65 0.7 0.75
raise 0.5 0.6 0.65
hired 0.65 0.7 0.7
passed 0.45 0.65 0.7
graduated 0.7 0.7 0.75
graduation 0.65 0.7 0.7
got_into 0.6 0.7 0.7
dream 0.55 0.6 0.55
concert 0.55 0.75 0.55
festival 0.6 0.75 0.55
holiday 0.6 0.6 0.6
vacation 0.6 0.6 0.6
trip 0.45 0.65 0.55
visit 0.4 0.55 0.5
weekend 0.4 0.55 0.55
friends 0.45 0.55 0.55
dance 0.6 0.8 0.6
alive 0.5 0.7 0.6
thrilling 0.6 0.85 0.6
dancing 0.6 0.8 0.6
laugh 0.6 0.7 0.6
laughing 0.6 0.7 0.6
marathon 0.3 0.75 0.7
finished 0.4 0.55 0.7
made_it 0.6 0.7 0.75
did_it 0.6 0.75 0.75
yes 0.45 0.7 0.65
yay 0.7 0.8 0.6
hooray 0.75 0.85 0.65
woohoo 0.75 0.9 0.65
wow 0.5 0.8 0.5
omg 0.3 0.85 0.45
finally 0.35 0.55 0.6
best 0.6 0.65 0.65
amazing 0.7 0.75 0.6
awesome 0.7 0.75 0.6
incredible 0.65 0.8 0.55
fantastic 0.7 0.75 0.6
brilliant 0.65 0.7 0.6
perfect 0.65 0.6 0.65
happy_birthday 0.55 0.7 0.55
good_morning . 0.4 0.5
good_night . 0.3 0.5
news 0.1 0.65 0.45
landed 0.3 0.65 0.5
snow_day 0.55 0.75 0.55
lets_go 0.55 0.85 0.7
let's_go 0.55 0.85 0.7
"""

# Rest, comfort, nature, home: positive, slow.
_REST = """
home 0.35 0.3 0.6
tea 0.4 0.2 0.55
coffee 0.35 0.35 0.55
blanket 0.45 0.15 0.5
bath 0.5 0.15 0.55
book 0.35 0.25 0.55
reading 0.35 0.2 0.55
fireplace 0.5 0.2 0.55
by_the_fire 0.5 0.2 0.55
sunset 0.55 0.2 0.5
sunrise 0.55 0.3 0.5
lake 0.45 0.2 0.5
sea 0.45 0.3 0.5
beach 0.55 0.35 0.55
forest 0.45 0.2 0.5
woods 0.4 0.2 0.5
garden 0.45 0.2 0.55
birds 0.4 0.3 0.5
wind 0.1 0.35 0.45
stars 0.45 0.25 0.45
porch 0.35 0.2 0.55
quiet . 0.15 0.5
silence . 0.15 0.45
still . 0.25 0.5
slow . 0.15 0.5
asleep 0.2 0.1 0.5
sleep . 0.15 0.45
sleeping 0.2 0.1 0.5
nap 0.4 0.1 0.5
rest 0.35 0.15 0.55
resting 0.3 0.15 0.5
bed . 0.15 0.4
sunday 0.3 0.25 0.55
morning . 0.4 0.5
evening 0.2 0.3 0.5
vibes 0.3 0.35 0.55
together 0.45 0.4 0.55
hug 0.6 0.4 0.5
went_well 0.55 0.35 0.65
recovered 0.5 0.35 0.65
recovering 0.3 0.3 0.45
healed 0.5 0.3 0.6
clear 0.35 0.3 0.6
fine 0.3 0.3 0.6
well 0.3 0.35 0.6
"""

_ALL = (_LOSS, _THREAT, _CELEBRATION, _REST)

# Emoji → (valence, arousal, dominance), the same scales. Variation selectors
# (U+FE0F) are stripped before lookup.
_EMOJI = """
😀 0.7 0.65 0.6
😃 0.7 0.7 0.6
😄 0.75 0.7 0.6
😁 0.7 0.7 0.6
😆 0.7 0.75 0.6
😂 0.7 0.8 0.6
🤣 0.75 0.85 0.6
😊 0.65 0.5 0.55
🙂 0.35 0.4 0.5
😉 0.45 0.55 0.6
😍 0.8 0.7 0.55
🥰 0.8 0.55 0.55
😘 0.7 0.55 0.55
🥳 0.8 0.85 0.65
🤩 0.8 0.8 0.6
😎 0.5 0.5 0.75
😌 0.55 0.15 0.55
😴 0.2 0.05 0.45
💤 0.15 0.05 0.45
☕ 0.35 0.25 0.55
🎉 0.75 0.85 0.65
🎊 0.7 0.8 0.6
🔥 0.55 0.85 0.65
💪 0.55 0.75 0.85
👍 0.45 0.5 0.6
👏 0.55 0.7 0.6
🙌 0.65 0.75 0.6
❤ 0.75 0.55 0.55
💕 0.75 0.55 0.5
💖 0.75 0.6 0.5
💗 0.7 0.6 0.5
😭 -0.7 0.4 0.2
😢 -0.6 0.35 0.25
😞 -0.55 0.25 0.25
😔 -0.5 0.2 0.3
😟 -0.45 0.55 0.3
🥺 -0.35 0.4 0.2
💔 -0.7 0.4 0.2
😩 -0.5 0.55 0.25
😫 -0.5 0.55 0.25
😪 -0.3 0.15 0.3
😕 -0.3 0.4 0.35
🙁 -0.35 0.35 0.3
☹ -0.45 0.35 0.3
😐 -0.05 0.25 0.45
😑 -0.15 0.2 0.45
😒 -0.35 0.45 0.55
🙄 -0.3 0.5 0.6
😤 -0.5 0.75 0.6
😠 -0.6 0.8 0.6
😡 -0.7 0.85 0.65
🤬 -0.8 0.95 0.65
😬 -0.3 0.7 0.3
😰 -0.6 0.8 0.2
😨 -0.6 0.8 0.2
😱 -0.7 0.9 0.15
😳 -0.1 0.75 0.3
🤢 -0.6 0.55 0.4
🤮 -0.7 0.6 0.4
🥶 -0.3 0.5 0.3
💀 -0.1 0.7 0.4
"""


@dataclass(frozen=True, slots=True)
class Norm:
    """One word's (or emoji's) place: ``valence`` is None when the word carries none."""

    valence: float | None
    arousal: float
    dominance: float


def _parse(block: str, table: dict[str, Norm]) -> None:
    for line in block.strip().splitlines():
        key, v, a, d = line.split()
        if key in table:
            raise ValueError(f"norm {key!r} is listed twice")
        table[key] = Norm(None if v == "." else float(v), float(a), float(d))


@cache
def words() -> dict[str, Norm]:
    """Single words → norm (lower case)."""
    table: dict[str, Norm] = {}
    for block in _ALL:
        _parse(block, table)
    return {k: v for k, v in table.items() if "_" not in k}


@cache
def phrases() -> dict[tuple[str, ...], Norm]:
    """Multi-word entries as token tuples (two or three words)."""
    table: dict[str, Norm] = {}
    for block in _ALL:
        _parse(block, table)
    return {tuple(k.split("_")): v for k, v in table.items() if "_" in k}


@cache
def emoji() -> dict[str, Norm]:
    """Single emoji characters (without variation selectors) → norm."""
    table: dict[str, Norm] = {}
    _parse(_EMOJI, table)
    return table
