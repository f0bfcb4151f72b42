"""Hand-written needles for the needle-in-a-haystack benchmark, and the queries that seek them.

Every query paraphrases its needle: after `content_words` (search's own, from
`vidseek.search.words`) it shares at most one word with it, so a search that only matches
words cannot find it by the words alone. Each needle
states its own fact, on a topic no other needle of any pool touches, so the unused needles
of a haystack can serve as absent queries (same style, different facts).

The haystack's filler is a Python lecture (speech from the stdlib's help texts, slide titles
from `FILLER_TITLES`), so no needle or absent query is about programming.
"""

from __future__ import annotations

from typing import NamedTuple

from vidseek.search.words import content_words

__all__ = [
    "ABSENT_QUERIES",
    "DISTRACTOR_PHOTOS",
    "FILLER_TITLES",
    "PICTURE_NEEDLES",
    "SPEECH_NEEDLES",
    "TEXT_NEEDLES",
    "NeedlePair",
    "PictureNeedle",
    "content_words",
]


class NeedlePair(NamedTuple):
    """A needle (spoken sentence or on-screen text) and a query that paraphrases it."""

    needle: str
    query: str


class PictureNeedle(NamedTuple):
    """A photo the object and scene models tag, the tags they give it, and a query for it.

    Attributes:
        photo: a `vidseek.synth.PHOTOS` name.
        query: what a user would type to find it.
        tags: what YOLOX-Nano / MobileNetV2 reported for it, pasted at the side of a 640x360
            frame at half the frame's height (measured; see `PICTURE_NEEDLES`).
        looks_like: the detector label it is found by; two pictures that share it are
            never in the same haystack (search could not tell them apart).
    """

    photo: str
    query: str
    tags: tuple[str, ...]
    looks_like: str


SPEECH_NEEDLES: tuple[NeedlePair, ...] = (
    NeedlePair("The meeting moves to room four at three o'clock.",
               "which room will the gathering be held in"),
    NeedlePair("My sister adopted a grey rabbit named Pepper last spring.",
               "what was the new pet bunny called"),
    NeedlePair("The bakery on Elm Street sells the best cinnamon rolls in town.",
               "where can you buy great pastries"),
    NeedlePair("The trip to Lisbon was delayed by two hours because of fog.",
               "why did the journey to Portugal start late"),
    NeedlePair("The plumber will come on Thursday to fix the kitchen sink.",
               "when is the repairman visiting to mend the tap"),
    NeedlePair("Grandpa planted forty tulip bulbs along the garden fence.",
               "how many flowers did the grandfather put in the ground"),
    NeedlePair("The concert tickets cost eighty dollars each.",
               "what was the price of a seat at the gig"),
    NeedlePair("Maria won the chess tournament without losing a single game.",
               "who became champion of the board game competition"),
    NeedlePair("The lighthouse keeper lives alone on a rocky island.",
               "who stays by himself on the cliffs out at sea"),
    NeedlePair("We need twelve eggs and a bag of flour for the cake.",
               "what ingredients are required for baking"),
    NeedlePair("The dinosaur skeleton at the museum is almost thirty meters long.",
               "how big is the fossil reptile on display"),
    NeedlePair("The school bus leaves at a quarter past seven every morning.",
               "what time do the pupils get picked up"),
    NeedlePair("The wedding will take place at the vineyard in late September.",
               "where is the couple getting married"),
    NeedlePair("Tom broke his left wrist while skiing in the Alps.",
               "how did he injure his arm on holiday"),
    NeedlePair("The swimming pool closes for repairs until the end of June.",
               "when will the pool reopen"),
    NeedlePair("Our neighbour's dog barks every time the postman arrives.",
               "which animal makes noise when the mail carrier comes"),
    NeedlePair("The farmer sold three hundred pumpkins at the autumn market.",
               "how many squashes were sold at the fall fair"),
    NeedlePair("A storm knocked down the old oak tree behind the church.",
               "what happened to the big tree near the chapel during bad weather"),
    NeedlePair("The new bridge across the river opens to traffic next Monday.",
               "when can cars start using the crossing over the water"),
    NeedlePair("Our band rehearses in the garage every Friday evening.",
               "when does the group practise their music"),
    NeedlePair("The hotel breakfast is served from seven until half past ten.",
               "what time is the morning meal available at the inn"),
    NeedlePair("Anna is learning to play the cello at the music academy.",
               "which instrument with a bow is she studying"),
    NeedlePair("The marathon route passes the castle and the harbour.",
               "where does the long running race go"),
    NeedlePair("The zoo welcomed a baby giraffe born on Tuesday night.",
               "which newborn animal arrived at the wildlife park"),
    NeedlePair("Dad painted the front door bright yellow last weekend.",
               "what colour is the entrance of the house now"),
    NeedlePair("The ferry to Norway runs only twice a day in winter.",
               "how often does the boat sail during the cold season"),
    NeedlePair("Our dentist appointment was moved to Wednesday afternoon.",
               "when do we see the tooth doctor"),
    NeedlePair("The volcano erupted and covered the village in grey ash.",
               "what happened when the mountain exploded"),
    NeedlePair("The team celebrated the victory with pizza and ice cream.",
               "how did the players mark their win"),
    NeedlePair("Kevin lost his wallet on the train to Manchester.",
               "where did he misplace his purse"),
    NeedlePair("The orchard produces about two tons of apples every year.",
               "how much fruit do the trees yield annually"),
    NeedlePair("The hikers reached the summit just before sunset.",
               "when did the walkers get to the mountain top"),
    NeedlePair("Our grandmother knitted a red scarf for every grandchild.",
               "what did granny make for the kids"),
    NeedlePair("The city council voted to ban cars from the old town square.",
               "what did the local government decide about vehicles downtown"),
    NeedlePair("The parrot can whistle the national anthem perfectly.",
               "which bird knows a patriotic song"),
    NeedlePair("The festival fireworks start at ten o'clock by the lake.",
               "when does the evening display of rockets begin"),
    NeedlePair("The carpenter built a wooden table from reclaimed barn doors.",
               "who made furniture from old timber"),
    NeedlePair("Sophie ran the hundred meter race in twelve seconds.",
               "what was her time in the dash"),
    NeedlePair("The tomatoes in the greenhouse ripened early this summer.",
               "when did the vegetables under glass mature"),
    NeedlePair("The hamster escaped from its cage during the party.",
               "which small pet got loose at the celebration"),
    NeedlePair("The restaurant on the pier serves fresh oysters every Friday.",
               "where can you eat shellfish by the sea"),
    NeedlePair("Peter repaired the roof before the heavy rain arrived.",
               "who fixed the top of the house ahead of the downpour"),
    NeedlePair("The art gallery is showing paintings by Frida Kahlo this month.",
               "which Mexican artist's work is on display"),
    NeedlePair("The tram line to the stadium opens in the spring.",
               "when does the new streetcar route start running"),
    NeedlePair("The choir sang carols at the hospital on Christmas Eve.",
               "where did the singers perform during the holidays"),
    NeedlePair("My uncle restored a vintage tractor from the fifties.",
               "what old farm machine did the relative fix up"),
)
"""Spoken needles: a sentence stating a fact, and a question about that fact."""

TEXT_NEEDLES: tuple[NeedlePair, ...] = (
    NeedlePair("GATE B12 NOW BOARDING", "which door is the plane leaving from"),
    NeedlePair("PHARMACY OPEN UNTIL 9PM", "when does the chemist close"),
    NeedlePair("WET FLOOR CAUTION", "slippery ground warning"),
    NeedlePair("TACO TUESDAY 2 DOLLARS", "cheap mexican food special"),
    NeedlePair("PARKING LEVEL 3 FULL", "no spaces left in the car park"),
    NeedlePair("NO SWIMMING SHARKS SEEN", "dangerous fish spotted near the beach"),
    NeedlePair("ROAD CLOSED DETOUR LEFT", "the street is blocked so take another way"),
    NeedlePair("FRESH STRAWBERRIES 3 EUR", "how much do the berries cost"),
    NeedlePair("MISSING TORTOISE: FRED", "a reptile pet has gone astray"),
    NeedlePair("PLATFORM 4: TRAIN TO YORK", "which track for the railway service to york"),
    NeedlePair("ELEVATOR OUT OF ORDER", "the lift is broken"),
    NeedlePair("BANK CLOSED ON MONDAYS", "when can I not withdraw money"),
    NeedlePair("FREE WIFI PASSWORD: OTTER", "how do I get online for free"),
    NeedlePair("SPEED LIMIT 30 KM/H", "how fast may I drive here"),
    NeedlePair("YOGA CLASS 6PM STUDIO 2", "when is the stretching session"),
    NeedlePair("HAPPY 40TH BIRTHDAY LUCY", "who is celebrating getting older"),
    NeedlePair("CHECKOUT CLOSED USE LANE 5", "which till should shoppers go to"),
    NeedlePair("SNOW CHAINS REQUIRED", "tyres need extra grip in icy weather"),
    NeedlePair("BEWARE OF FALLING ROCKS", "danger from stones dropping"),
    NeedlePair("CASH ONLY NO CARDS", "can I pay with plastic"),
    NeedlePair("QUIET ZONE NO PHONES", "where must mobiles be silenced"),
    NeedlePair("HIGH TIDE AT 14:20", "when will the sea be at its highest"),
    NeedlePair("LAUNDRY IN BASEMENT", "where can I wash my clothes"),
    NeedlePair("ICE RINK OPENS AT NOON", "when can I go skating"),
    NeedlePair("HEAT WARNING STAY INDOORS", "it is too hot to go outside"),
    NeedlePair("BIKE RENTAL 5 EUR/HOUR", "how much to hire a bicycle"),
    NeedlePair("POLLING STATION THIS WAY", "where do I cast my vote"),
    NeedlePair("FIRE EXIT KEEP CLEAR", "emergency way out must not be blocked"),
    NeedlePair("BOOK SALE IN THE HALL", "where can I buy used novels"),
    NeedlePair("FLU SHOTS AVAILABLE HERE", "where can I get vaccinated"),
    NeedlePair("NO DRONES ALLOWED", "unmanned aircraft are banned"),
    NeedlePair("SURF REPORT: 2M WAVES", "how big is the swell for the surfers"),
    NeedlePair("TRAIL CLOSED: BEAR SEEN", "a wild animal was spotted on the path"),
    NeedlePair("QUIZ NIGHT THURSDAY 8PM", "when is the trivia evening"),
    NeedlePair("OPEN HOUSE SATURDAY 2-4", "when can buyers view the property"),
    NeedlePair("GLUTEN FREE MENU HERE", "meals for coeliacs"),
    NeedlePair("CAMPSITE FULL TONIGHT", "no room to pitch a tent"),
    NeedlePair("PETROL 1.79 PER LITRE", "how much does fuel cost"),
    NeedlePair("MIND THE GAP", "be careful stepping off the carriage"),
    NeedlePair("TAXI RANK 200 M AHEAD", "where can I find a cab"),
    NeedlePair("WELCOME TO REYKJAVIK", "which Icelandic city is this"),
    NeedlePair("STAFF ONLY PAST HERE", "employees permitted beyond this point"),
    NeedlePair("ANTIQUES FAIR SUNDAY", "when can I buy old collectibles"),
    NeedlePair("TOWING ZONE: NO STOPPING", "your car will be removed if you wait"),
)
"""On-screen needles: a short sign (one line at 640x360, 0.07 of the height) and a query."""

PICTURE_NEEDLES: tuple[PictureNeedle, ...] = (
    PictureNeedle("chelsea", "a kitten", ("cat", "Egyptian cat"), "cat"),
    PictureNeedle("coffee", "a hot drink on a saucer", ("cup", "dining table"), "cup"),
    PictureNeedle("motorcycle", "a motorbike", ("motorcycle",), "motorcycle"),
    PictureNeedle("astronaut", "a woman in a spacesuit", ("person",), "person"),
    PictureNeedle("camera", "a photographer behind his tripod", ("person",), "person"),
    PictureNeedle("horse", "a pony", ("horse",), "horse"),
)
"""Photos the object and scene models tag when pasted at the side (``scale=0.5``).

Measured with YOLOX-Nano and MobileNetV2 (../shared/models) on every `vidseek.synth.PHOTOS`
photo pasted left or right at half the frame height over gradients and flat colours: these
six were tagged with what they show. rocket, immunohistochemistry, hubble_deep_field,
retina, clock, brick, grass, gravel and cell got no tag; colorwheel ("apple"), logo ("pick"),
coins ("remote control"), moon ("clock") and text ("envelope") only wrong ones.
"""

DISTRACTOR_PHOTOS: tuple[str, ...] = (
    "coins", "moon", "clock", "page", "text", "brick", "grass", "gravel", "cell",
)
"""Greyscale photos that fill whole lecture shots. Shown full frame they get no tag a needle
gets (measured: bowl, clock, nail, nematode, spotlight, crossword puzzle, toilet, apple or
none), so a search must not take them for a picture needle."""

ABSENT_QUERIES: tuple[str, ...] = (
    "an elephant spraying water with its trunk",
    "volleyball players diving on the sand",
    "the recipe for lemon meringue pie",
    "who received the Nobel prize in chemistry",
    "a hot air balloon over the desert",
    "a vet treating a sick cow",
    "the price of a diamond necklace",
    "a tornado crossing the prairie",
    "where penguins nest in Antarctica",
    "a gondola ride in Venice",
    "a knight in shining armour",
    "when the solar eclipse happens",
    "a kangaroo carrying a joey",
    "a scuba diver exploring a coral reef",
    "a snowman with a carrot nose",
    "the population of Brazil",
    "a circus clown juggling",
    "the length of the Great Wall of China",
    "a submarine surfacing in the arctic",
    "a shepherd herding goats",
    "a pirate ship with black sails",
    "a wolf howling in the forest",
    "children building a sandcastle",
    "an earthquake shaking skyscrapers",
    "the Olympic torch relay",
    "an old typewriter on a desk",
    "a beekeeper collecting honey",
    "a blacksmith hammering a sword",
    "a tennis final at Wimbledon",
    "a hedgehog crossing a lawn",
    "the wreck of the Titanic",
    "a firefighter on a ladder",
    "a rainbow over a waterfall",
)
"""Queries about things no haystack shows or says (and not about programming: the filler
speech is Python documentation)."""

FILLER_TITLES: tuple[str, ...] = (
    "INTRODUCTION",
    "THE DATA MODEL",
    "EXPRESSIONS",
    "SIMPLE STATEMENTS",
    "COMPOUND STATEMENTS",
    "NAMING AND BINDING",
    "THE IMPORT SYSTEM",
    "EXCEPTIONS",
    "CLASSES",
    "FUNCTIONS",
    "ITERATORS",
    "GENERATORS",
    "COROUTINES",
    "DESCRIPTORS",
    "SPECIAL METHODS",
    "NUMERIC TYPES",
    "SEQUENCES",
    "MAPPINGS",
    "FORMATTED LITERALS",
    "COMPARISONS",
    "OPERATOR PRECEDENCE",
    "SCOPES",
    "DECORATORS",
    "CONTEXT MANAGERS",
    "PATTERN MATCHING",
    "ASSIGNMENT",
    "BUILTIN CONSTANTS",
    "SUMMARY",
)
"""Slide titles of the lecture filler (distractor text at the top of every shot)."""

