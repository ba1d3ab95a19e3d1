"""Generate ``dataset/sentiment.csv``: 10,000 templated sentiment examples.

Run ``python dataset/generate.py`` from the repository root. With the default seed it
rewrites ``dataset/sentiment.csv`` byte for byte and prints the composition that
``dataset/README.md`` quotes. ``--out DIR`` writes the CSV somewhere else (the tests
regenerate into a temporary folder and compare hashes).

Design
------
A *frame* is a sentence template of one category (``weak_negative``...) with named
slots, for example ``"{event} was a bit underwhelming."``. A frame is either generic
(its slots are filled from the vocabulary of any context that has them) or written
for one context (``"{team} train at {venue} on {days}."`` is sports only). Every
context owns its vocabulary: ``item`` (something you have an opinion about),
``product`` (something you bought or use), ``event`` (a past occasion), ``person``
and ``activity`` (a gerund phrase), plus context-only slots such as ``team`` or
``meeting``.

Splits are grouped by frame: every frame belongs to exactly one of train,
calibration and test, so the test split measures generalisation to unseen sentence
shapes rather than recall of memorised templates. Within a category the frames are
dealt 70/10/20 to the splits, and then each (category, context, split) cell draws its
exact number of rows round-robin over the frames it may use, rejecting any text that
already exists (after lower-casing, dropping punctuation and folding whitespace).
Each row records its frame's id in the CSV's ``frame`` column, so that anything carved
out of one split later (a validation slice of ``train``) can be grouped by frame too.

The planted bias is in the row targets (``CONTEXT_ROWS``): neutral rows are sports
(positive) or workplace (negative) only, and among the other positive rows sports is
over-represented while workplace is rare (mirrored for negatives).

Out of scope: anything beyond the standard library (the script runs without the
``confnb`` package, numpy or pandas), real-world text, and languages other than
English. Loading the CSV is ``confnb.load_sentiment``'s job.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import re
import statistics
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SEED = 20240917
FILENAME = "sentiment.csv"
COLUMNS = ("id", "text", "label", "category", "context", "split", "frame")
MIN_WORDS, MAX_WORDS = 3, 40

CONTEXTS = (
    "sports",
    "workplace",
    "food",
    "travel",
    "shopping",
    "movies",
    "music",
    "technology",
    "weather",
    "health",
    "home",
    "education",
)

# category -> (label, total rows)
CATEGORIES = {
    "strong_positive": ("positive", 500),
    "strong_negative": ("negative", 500),
    "medium_positive": ("positive", 1000),
    "medium_negative": ("negative", 1000),
    "weak_positive": ("positive", 2500),
    "weak_negative": ("negative", 2500),
    "neutral_positive": ("positive", 1000),
    "neutral_negative": ("negative", 1000),
}

# Splits and their shares in tenths; every cell count below is a multiple of 10, so
# each (category, context) cell splits exactly 70/10/20.
SPLITS = (("train", 7), ("calibration", 1), ("test", 2))


def _row_targets() -> dict[str, dict[str, int]]:
    """Rows per (category, context): the planted bias lives here.

    Neutral rows are all sports (positive) or all workplace (negative). Each other
    positive category puts 56% of its rows in sports, 4% in the workplace and 4% in each
    of the ten other contexts; negative categories mirror this. Every count is a
    multiple of 10, so each (category, context) cell splits exactly 70/10/20.
    """
    targets = {}
    for category, (label, total) in CATEGORIES.items():
        if category.startswith("neutral"):
            targets[category] = {"sports" if label == "positive" else "workplace": total}
            continue
        favoured, disfavoured = ("sports", "workplace") if label == "positive" else ("workplace", "sports")
        rows = {context: total * 4 // 100 for context in CONTEXTS}
        rows[favoured] = total * 56 // 100
        targets[category] = rows
        assert sum(rows.values()) == total
    assert all(n % 10 == 0 for rows in targets.values() for n in rows.values())
    return targets


CONTEXT_ROWS = _row_targets()


# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------
# Noun phrases are singular (frames say "is"/"was"); teams and departments are
# collective nouns. Entries start in lower case unless they are proper nouns: the
# first letter of every sentence is capitalised after filling.

SHARED = {
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
    "days": (
        "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
        "Sundays", "Tuesday evenings", "Thursday evenings", "Saturday mornings",
        "Sunday mornings", "Wednesday nights",
    ),
    "time": (
        "seven", "half past six", "9:30", "ten in the morning", "two o'clock",
        "quarter to eight", "six in the evening", "noon", "8:15", "half past four",
        "eleven", "1:45",
    ),
    "hours": (
        "from nine until half past ten", "from two until four", "from 10:30 until noon", "from 1:45 until 3:15",
        "from four until five", "from 8:15 until nine", "from eleven until half past twelve",
    ),
    "draft": ("second", "third", "fourth", "fifth", "final"),
    "month": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
    "number": ("two", "three", "four", "five", "six", "eight", "ten", "twelve", "fifteen", "twenty"),
    "minutes": ("thirty", "forty-five", "sixty", "ninety", "twenty", "fifty"),
    "ordinal": ("1st", "5th", "10th", "14th", "15th", "20th", "25th", "28th"),
    "year": ("2015", "2017", "2018", "2019", "2021", "2022"),
}

SPORT_VENUES = {
    "tennis": ("the tennis centre", "the park courts", "the club courts", "the indoor tennis centre"),
    "football": ("the north pitch", "Riverside Park", "the main stadium", "the astroturf pitch"),
    "netball": ("the sports hall", "the netball courts", "the leisure centre"),
    "badminton": ("the sports hall", "the leisure centre", "the church hall"),
    "rowing": ("the boathouse", "the river", "the rowing lake"),
    "cricket": ("the cricket ground", "the village green", "the county ground"),
    "basketball": ("the sports hall", "the indoor arena", "the outdoor courts"),
    "hockey": ("the astroturf pitch", "the hockey club", "the school pitch"),
    "rugby": ("the rugby club", "the main stadium", "the north pitch"),
    "volleyball": ("the sports hall", "the beach courts", "the leisure centre"),
    "squash": ("the squash club", "the leisure centre", "the sports centre"),
    "table tennis": ("the community centre", "the sports hall", "the youth club"),
    "swimming": ("the community pool", "the lido", "the leisure centre pool"),
    "athletics": ("the athletics track", "the stadium track", "Victoria Park"),
    "cycling": ("the velodrome", "the cycle track", "the park gates"),
    "golf": ("the golf club", "the driving range", "the municipal course"),
    "archery": ("the archery range", "the sports field", "the club range"),
    "judo": ("the dojo", "the community centre", "the sports hall"),
    "fencing": ("the sports hall", "the fencing club", "the university gym"),
    "boxing": ("the boxing gym", "the community centre", "the club gym"),
}

VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    "sports": {
        "item": (
            "the club's new kit", "the new all-weather pitch", "the climbing wall at the leisure centre",
            "our new coach's training plan", "the home team this season", "the tennis club on Park Road",
            "the five-a-side league this season", "the pool at the sports centre", "the rowing club",
            "my new road bike", "the club's new scoreboard",
            "the new cricket pavilion", "the running track by the river",
            "the new gym at the sports centre", "this year's squad", "the netball league", "the new stadium",
            "the club's new clubhouse", "the badminton session on Thursdays", "the junior football programme",
            "our team's new formation", "the Saturday park run", "the boxing gym on Mill Lane",
            "the cycling club's Sunday ride", "the new spin class", "the squash ladder",
            "the club's youth academy", "the new sports hall", "the tennis coaching this term",
            "the indoor cricket school", "the local rugby club", "the golf course by the river", "the outdoor pool",
            "the new climbing gym", "the Sunday league", "the club's training programme",
            "the hockey club's new astroturf", "the triathlon club", "the walking football group",
            "the open-water swimming spot", "the gym's new weights room", "the sailing club", "the ice rink",
            "the skate park", "the bowling green", "the judo club", "the boxing class on Fridays",
            "the club's pre-season camp", "the team's new game plan",
        ),
        "product": (
            "the new racket", "my new pair of running shoes", "the club's new kit", "my new road bike",
            "this season ticket", "my new pair of football boots", "the club membership", "the new cricket bat",
            "the new squash racket", "my new cycling helmet", "this yoga mat", "this season's replica shirt",
            "my new golf driver", "the new climbing harness", "the gym membership", "my new hockey stick",
            "the new tennis bag", "my new wetsuit",
            "the new set of weights", "this pair of swimming goggles", "my new skateboard", "the club's training app",
            "the new rowing machine", "this stopwatch", "the new basketball", "my new pair of climbing shoes",
            "the sports bag from the club shop", "the new match ball", "my new tracksuit",
        ),
        "event": (
            "last night's match", "Saturday's game", "the derby at the weekend", "this morning's training session",
            "the final round", "the club's charity run", "the five-a-side tournament", "yesterday's swim practice",
            "the cup final", "Sunday's half marathon", "the tennis doubles on Thursday", "the away game in Leeds",
            "the cricket match against the Rovers", "the club's annual sports day", "the relay race",
            "the netball semi-final", "last week's hockey match", "the penalty shoot-out", "the Sunday bike ride",
            "the rugby sevens tournament", "the junior league final", "the season opener",
            "the badminton club night", "the county trial day",
            "the regatta", "the club's awards night", "yesterday's tennis lesson", "the county cricket final",
            "Thursday's five-a-side", "the charity golf day", "the swimming gala", "the cross-country race",
            "the basketball play-off final", "the parkrun this morning",
            "the judo grading", "the ten-kilometre race on Sunday",
            "the club triathlon", "the netball tournament", "the squash final", "the rugby match on Saturday",
            "the cycling sportive", "the indoor climbing competition", "the end-of-season match",
        ),
        "person": (
            "my coach", "the referee", "our captain", "the new goalkeeper", "my tennis partner",
            "the swimming instructor", "the team physio", "our new striker", "the club secretary",
            "my running buddy", "the umpire", "the new head coach", "our team manager",
            "the club's fitness trainer", "the opposing captain", "my doubles partner",
            "the linesman", "my squash partner", "the new captain", "the cricket coach", "the club's youth coach",
            "our left-back", "the match commentator", "the gym instructor", "the rowing coach", "my climbing partner",
            "the team's new signing", "our wicketkeeper", "the club chairman", "the starter at the race",
        ),
        "activity": (
            "playing tennis on Saturdays", "training for the marathon", "coaching the under-twelves",
            "swimming laps before work", "watching the league games with friends", "cycling along the coast road",
            "practising my serve", "going to spin class", "playing five-a-side after work",
            "running with the club on Tuesdays", "learning to climb", "playing squash at lunchtime",
            "going to the football with my dad", "rowing on the river at dawn", "practising free kicks",
            "playing in the Sunday cricket league", "doing drills with the team",
            "playing netball on Thursdays", "swimming at the lido", "training with the new coach",
            "going to the gym before work", "playing golf with my uncle", "doing the Saturday parkrun",
            "running the hills near home", "playing badminton with my sister", "learning to surf",
            "coaching the junior netball team", "doing hockey drills", "playing walking football",
            "umpiring the junior games",
        ),
        "team": (
            "the under-14s", "the first team", "the women's side", "the reserves", "the Harriers",
            "the Rovers", "the veterans' squad", "the junior squad", "the second eleven", "the county side",
            "the Eagles", "the academy team",
        ),
        # {sport} is any sport, {game} one you "play"; a {venue} drawn in the same
        # frame as either comes from SPORT_VENUES so that the two agree.
        "sport": tuple(SPORT_VENUES),
        "game": (
            "tennis", "football", "netball", "badminton", "cricket", "basketball", "hockey", "rugby",
            "volleyball", "squash", "table tennis", "golf",
        ),
        "venue": (
            "the leisure centre", "the sports centre", "the sports hall", "the clubhouse", "the indoor arena",
            "the main stadium", "Riverside Park", "Victoria Park", "the community sports ground",
            "the school playing fields",
        ),
        "ground": (
            "the main stadium", "Riverside Park", "the north pitch", "the community sports ground",
            "the cricket ground", "the rugby club", "the astroturf pitch", "the school playing fields",
        ),
        "match": (
            "the home game", "the league match", "the cup tie", "the semi-final", "the club championship",
            "the away fixture", "the friendly", "the quarter-final", "the derby", "the play-off",
            "the opening fixture", "the county final",
        ),
        "official": (
            "the referee", "the umpire", "the match official", "the linesman", "the fourth official",
            "the video referee",
        ),
        "selector": ("the head coach", "the team manager", "the captain", "the selection panel", "the assistant coach"),
        "scorer": ("the club scorer", "the fixtures secretary", "the team manager", "the assistant coach"),
        "division": (
            "first division", "second division", "third division", "county league", "premier division",
            "regional league",
        ),
        "town": ("Leeds", "Bristol", "Norwich", "Derby", "Cardiff", "York", "Exeter", "Carlisle", "Bath", "Hull"),
        "colour": ("blue", "white", "green", "red", "yellow", "black", "orange", "navy"),
        "kit": (
            "shin pads", "a water bottle", "a spare shirt", "a gum shield", "a towel", "indoor shoes",
            "a signed consent form", "a packed lunch",
        ),
        "dusk": ("half past four", "five o'clock", "six", "half past six", "seven", "dusk"),
        "founded": ("1952", "1968", "1975", "1987", "1994", "2003", "2011", "2019"),
    },
    "workplace": {
        "item": (
            "the new office layout", "the new expense system", "the open-plan office", "the quarterly review process",
            "the onboarding programme", "the office coffee machine", "the new project tracker",
            "our hybrid working policy", "the new timesheet software", "the hot-desking system", "the staff canteen",
            "the new performance framework", "my new desk by the window", "the company intranet",
            "the weekly reporting template", "the new ticketing system", "the meeting room booking tool",
            "the office kitchen", "my workload this month", "the new shift rota", "the staff car park",
            "the company's travel policy", "the internal newsletter", "the new approval process",
            "the new office", "our team structure", "the training budget this year", "the company's bonus scheme",
            "the new HR portal", "the office air conditioning", "the flexible hours policy", "the new reporting line",
            "the shared calendar system", "the client portal", "the team's new workflow", "the office's quiet room",
            "the mentoring scheme", "the company's new strategy", "the filing system", "the office Wi-Fi",
            "the new dress code", "the fourth-floor breakout space", "the new sales target", "my new role",
        ),
        "product": (
            "the new office chair", "my new work laptop", "the standing desk", "the new headset from IT",
            "the expense app", "the new printer on our floor", "the company phone", "the second monitor IT gave me",
            "the conference room projector", "the new video-call software", "the ergonomic keyboard",
            "the scheduling tool", "the new badge reader",
            "the office laptop dock", "the new phone system", "the team's new whiteboard", "the new coffee machine",
            "the CRM software", "the new security pass", "the noise-cancelling headset", "the company car",
            "the shared printer",
        ),
        "event": (
            "this morning's meeting", "the quarterly review", "the all-hands", "the team offsite",
            "the client presentation", "yesterday's stand-up", "the training workshop", "the budget meeting",
            "my performance review", "the product launch", "the team-building day", "the planning session",
            "Friday's retrospective", "the board presentation", "the two-hour strategy call", "the induction day",
            "the sales kick-off", "the project handover", "the leaving party", "the audit meeting",
            "the town hall with the CEO", "my one-to-one with my manager",
            "the team lunch", "the project review", "the kick-off meeting", "the away day",
            "Monday's planning meeting", "the leadership briefing", "the compliance training",
            "the interview panel this afternoon", "the customer call", "yesterday's workshop",
            "the steering committee", "the all-staff briefing", "the annual appraisal",
            "the end-of-year party", "the contract negotiation",
            "the sprint review", "the pitch to the new client", "the weekly sync",
        ),
        "person": (
            "my manager", "the new intern", "the IT helpdesk", "my line manager", "the HR advisor",
            "my new colleague", "the client", "our team lead", "the project sponsor", "the office manager",
            "the new director", "the finance contact", "the receptionist", "my mentor at work", "the recruiter",
            "the head of department", "my new boss", "the CEO", "the account manager", "the facilities manager",
            "my deputy", "the new hire", "the external consultant", "our project manager", "my desk neighbour",
            "the trainer on the course", "the operations director",
        ),
        "activity": (
            "working on the new project", "answering client emails", "sitting in back-to-back meetings",
            "working from the office", "preparing the quarterly report", "commuting into the office",
            "covering the late shift", "training the new starters", "chasing invoices", "updating the project plan",
            "filling in timesheets", "working with the new team", "presenting to the board",
            "doing the monthly stock count", "handling the support queue",
            "writing the monthly report", "running the team meetings", "working late on Thursdays",
            "reviewing contracts", "onboarding new clients", "managing the budget", "covering for my manager",
            "working in the open-plan office", "planning the office move", "taking minutes at board meetings",
            "cold-calling new leads", "doing the payroll run", "testing the new software", "mentoring the graduates",
        ),
        "meeting": (
            "the budget meeting", "the weekly team meeting", "the project kick-off", "the quarterly review",
            "the board meeting", "the planning session", "the client call", "the all-hands", "the stand-up",
            "the compliance training", "the one-to-one", "the sprint review", "the induction session",
        ),
        "document": (
            "the quarterly report", "the budget forecast", "the project plan", "the risk register",
            "the monthly sales summary", "the audit checklist", "the staff handbook", "the client proposal",
            "the meeting agenda", "the annual return", "the supplier contract", "the training plan",
            "the procurement form", "the board pack",
        ),
        "room": (
            "the conference room", "meeting room 4B", "the boardroom", "the third-floor breakout area",
            "room 12", "the quiet room", "the training suite", "the Thames room",
        ),
        "dept": (
            "the finance team", "HR", "the legal team", "the marketing department", "the IT department",
            "the sales team", "procurement", "the operations team", "facilities", "payroll",
        ),
        "floor": ("the ground floor", "the first floor", "the second floor", "the third floor", "the fourth floor"),
        "system": (
            "the expense system", "the HR portal", "the booking system", "the payroll system", "the intranet",
            "the shared drive", "the project tracker", "the ticketing system",
        ),
        "folder": ("the shared drive", "the team site", "the project folder", "the intranet", "the document library"),
        "hr_system": ("the HR portal", "the staff intranet", "the people system", "the self-service portal"),
        "role": (
            "the new analyst", "the office manager", "the project coordinator", "the new administrator",
            "the team lead", "the contractor", "the new account manager", "the graduate trainee",
        ),
    },
    "food": {
        "item": (
            "this ramen place", "the new bakery on the corner", "the café's brunch menu", "the lasagne at Marco's",
            "the chef's tasting menu", "the curry house on King Street", "this recipe for banana bread",
            "the food market by the station", "the new vegan menu", "the lunch spot near the park",
            "my mum's chicken soup", "this sourdough", "the sushi bar downtown", "the pub's Sunday roast",
            "the street food stall by the canal", "the pizza place on the high street", "this homemade pesto",
            "the new coffee shop", "the dessert menu at Lola's", "the fish and chip shop", "the taco truck",
            "the Greek place on Elm Street",
        ),
        "product": (
            "this olive oil", "the meal kit subscription", "this coffee blend", "the new cookbook",
            "this jar of chilli sauce", "the sourdough starter kit", "this bottle of wine",
            "the frozen pizza from the corner shop", "the lunch deal at the deli", "this hot chocolate mix",
            "the new cereal", "the air fryer I bought for the kitchen", "this box of chocolates",
        ),
        "event": (
            "dinner at the new Thai place", "last night's barbecue", "the cooking class", "Sunday lunch at my aunt's",
            "the wine tasting", "the food festival", "our anniversary dinner", "the brunch on Saturday",
            "the tasting menu evening", "the dinner party at Sam's",
            "the pizza night", "the farmers' market on Saturday",
            "the street food crawl", "lunch at the Italian place",
        ),
        "person": (
            "the waiter", "the chef", "our server", "the barista", "the baker", "the sommelier",
            "the cooking instructor", "the restaurant manager", "the host at the bistro", "the food delivery rider",
        ),
        "activity": (
            "cooking dinner from scratch", "baking bread at the weekend", "trying new recipes",
            "eating out on Fridays", "meal prepping on Sundays", "making fresh pasta", "learning to cook Thai food",
            "ordering takeaway", "grilling in the back garden", "making jam from the garden plums",
        ),
    },
    "travel": {
        "item": (
            "the hotel", "our rental car", "the hostel in Kyoto", "the airport lounge", "the beach resort",
            "the old town in Porto", "the sleeper train to Inverness", "our room with a sea view",
            "the campsite by the lake", "the guided walking tour", "the ferry to the island",
            "the guesthouse in the mountains", "the new airport terminal", "our holiday cottage",
            "the city's tram network", "the airline's new seating",
        ),
        "product": (
            "the new suitcase", "the travel pillow", "the rail pass", "the travel insurance", "this guidebook",
            "the booking app", "the airline's premium economy", "the all-inclusive package", "the city pass",
            "the new backpack", "the hotel's breakfast package",
        ),
        "event": (
            "the flight to Lisbon", "our weekend in Edinburgh", "the road trip along the coast", "the boat tour",
            "the train journey to Vienna", "our honeymoon in Crete", "the day trip to the lakes",
            "the museum visit in Madrid", "the hike to the waterfall", "the walking tour of Rome",
            "the overnight bus to Krakow", "the family holiday", "our stopover in Singapore", "the safari",
        ),
        "person": (
            "the tour guide", "the hotel receptionist", "our host", "the flight attendant", "the taxi driver",
            "the travel agent", "the concierge", "the bus driver", "our Airbnb host",
        ),
        "activity": (
            "travelling by train", "backpacking around Portugal", "exploring the old town on foot",
            "planning the summer trip", "flying with a budget airline", "camping by the lake",
            "packing for the trip", "road-tripping with friends", "staying in hostels",
        ),
    },
    "shopping": {
        "item": (
            "the new shopping centre", "the online store's returns process", "the high street bookshop",
            "the supermarket on Mill Road", "the outlet village", "the department store's sale", "the corner shop",
            "the vintage market", "the store's loyalty scheme", "the new self-checkout",
            "the click-and-collect service", "the garden centre", "the charity shop on the high street",
            "the weekend flea market",
        ),
        "product": (
            "this jacket", "my new winter coat", "the handbag I ordered", "this pair of jeans",
            "my new pair of trainers", "this watch", "the rug I bought online", "this scarf",
            "the umbrella from the market", "this perfume", "the gift set", "the birthday present I ordered",
            "this lamp", "the dress I bought for the wedding",
        ),
        "event": (
            "the Black Friday sale", "Saturday's trip to the mall", "the vintage fair", "the craft market on Sunday",
            "the late-night shopping event", "the Christmas shopping trip", "the sample sale", "the store opening",
            "the antiques fair", "the outlet trip with my sister", "the shopping trip to Milan",
        ),
        "person": (
            "the shop assistant", "the cashier", "the customer service agent", "the store manager",
            "the courier", "the personal shopper", "the tailor", "the market trader",
        ),
        "activity": (
            "shopping online", "browsing the vintage market", "hunting for bargains", "doing the weekly shop",
            "shopping for birthday presents", "returning things by post", "shopping on the high street",
        ),
    },
    "movies": {
        "item": (
            "the new season of the show", "this documentary", "the sequel", "the new cinema on Bridge Street",
            "the streaming service's new lineup", "the detective series everyone is talking about", "the remake",
            "this sitcom", "the film's soundtrack", "the animated film", "the new crime drama",
            "the director's latest film", "the lead actor's performance", "the reality show",
            "the costume drama on Sunday nights", "the film adaptation of the novel", "the nature series",
        ),
        "product": (
            "the streaming subscription", "the box set", "the Blu-ray edition", "the cinema membership card",
            "the premium seats at the cinema", "the film channel package",
        ),
        "event": (
            "the premiere", "the finale watch party", "the screening of the sequel", "the film festival",
            "the midnight screening", "the movie night at Jo's", "the Q&A with the director",
            "the double bill at the cinema", "the outdoor cinema night", "the awards night viewing party",
            "the film club's Friday screening",
        ),
        "person": (
            "the usher at the cinema", "the box office assistant", "the host of the film quiz",
            "the guide on the studio tour", "the film club organiser", "the projectionist",
            "the assistant at the video shop", "the director at the Q&A",
        ),
        "activity": (
            "binge-watching the series", "going to the cinema on Tuesdays", "watching old westerns",
            "catching up on the show", "rewatching the trilogy", "watching documentaries before bed",
        ),
    },
    "music": {
        "item": (
            "the new album", "this playlist", "the band's latest single", "the jazz club on Main Street",
            "the new record shop", "the live recording", "the orchestra's new season", "the band's new sound",
            "the acoustic set", "the choir's Christmas programme", "this radio station", "the festival line-up",
        ),
        "product": (
            "my new pair of headphones", "the vinyl reissue", "the music streaming plan", "my new guitar",
            "my new digital piano", "the festival ticket", "the new amp", "this record player",
            "the ukulele I bought",
        ),
        "event": (
            "last night's concert", "the gig at the Roundhouse", "the music festival", "the piano recital",
            "the open mic night", "the choir rehearsal", "the orchestra's opening night", "the album launch",
            "the karaoke night", "the jazz night at the Blue Room", "the band's reunion show",
        ),
        "person": (
            "my guitar teacher", "my singing coach", "the choir leader", "the bandleader", "my piano teacher",
            "the sound engineer", "the assistant at the record shop", "the bouncer at the gig", "our drummer",
        ),
        "activity": (
            "learning the guitar", "playing in the band", "practising piano in the evenings", "singing in the choir",
            "going to gigs", "listening to vinyl", "writing songs", "DJing at parties",
        ),
    },
    "technology": {
        "item": (
            "my new phone", "the latest software update", "the new operating system", "the smart home hub",
            "this photo editing app", "the home Wi-Fi", "the new smartwatch", "the laptop's battery life",
            "the cloud backup service", "the password manager", "the new version of the app", "the voice assistant",
            "my new tablet", "the video doorbell",
        ),
        "product": (
            "my new phone", "this laptop", "the wireless charger", "the new smartwatch", "the gaming console",
            "this e-reader", "the mechanical keyboard", "the external hard drive", "the budget tablet",
            "the 4K monitor", "this Bluetooth speaker", "the VR headset",
        ),
        "event": (
            "the phone launch event", "the tech conference", "the hackathon at the weekend", "the live demo",
            "the retro gaming expo", "the robotics fair", "the smart home workshop", "the developer meetup",
            "the VR arcade visit", "the coding workshop",
        ),
        "person": (
            "the tech support agent", "the repair shop technician", "the installer", "the customer support chatbot",
            "the engineer who set up the broadband", "the salesperson at the phone shop", "the IT tutor at the library",
        ),
        "activity": (
            "setting up the smart lights", "building my own PC", "coding in the evenings", "using the new app",
            "learning to edit videos", "backing up my photos", "gaming online with friends",
        ),
    },
    "weather": {
        "item": (
            "the weather this weekend", "this autumn weather", "the spring weather this year",
            "the first snow of the season", "the sea breeze", "the summer evening light", "the forecast for next week",
            "the weather in Lisbon", "this mild winter", "the fog this morning", "the heat this afternoon",
            "the rain this week", "today's sunshine", "the wind today", "the weather on the coast",
            "the cooler weather lately",
        ),
        "event": (
            "the barbecue in the rain", "our walk in yesterday's sunshine", "the snow day last week",
            "the beach day during the heatwave", "the hike in the fog", "the picnic in the sun on Sunday",
            "the bike ride in the wind", "the wedding in the drizzle", "the sailing trip in the storm",
            "the frosty morning walk", "the rainy bank holiday", "the thunderstorm we watched from the porch",
        ),
        "activity": (
            "walking in the rain", "sitting in the sun", "cycling into the wind", "gardening in this heat",
            "waking up to frost", "running in the drizzle", "clearing snow off the drive",
        ),
    },
    "health": {
        "item": (
            "the new GP surgery", "my new sleep routine", "the walk-in clinic", "the new diet plan",
            "the hospital's appointment system", "the physio programme", "the dental practice on Queen Street",
            "the meditation course", "my recovery after the operation", "the pharmacy on the corner",
            "the online doctor service", "the vaccination clinic", "the new treatment plan", "the fitness assessment",
        ),
        "product": (
            "the allergy medication", "the new eye cream", "the blood pressure monitor", "this vitamin D supplement",
            "the knee brace", "the nasal spray", "the new inhaler", "this herbal tea for sleep", "the hearing aid",
            "the sleep tracking app",
        ),
        "event": (
            "my check-up this morning", "the dentist appointment", "the physio session", "the first-aid course",
            "the eye test", "the mindfulness workshop", "the consultation with the specialist", "my hospital stay",
            "the therapy session", "the health screening", "my follow-up appointment", "the sleep clinic visit",
        ),
        "person": (
            "my GP", "the dentist", "the nurse", "the pharmacist", "my physiotherapist", "the specialist",
            "the therapist", "the receptionist at the surgery", "the paramedic", "the dietitian",
        ),
        "activity": (
            "going to physio", "sticking to the new diet", "taking the new medication", "going to bed earlier",
            "cutting down on sugar", "walking ten thousand steps a day", "doing the breathing exercises",
        ),
    },
    "home": {
        "item": (
            "our new flat", "the kitchen renovation", "the garden", "the neighbourhood", "the loft conversion",
            "the new carpet", "the bathroom after the refit", "the spare room", "our street", "the heating system",
            "the new boiler", "the balcony", "the bedroom's new paint colour", "the shared courtyard",
        ),
        "product": (
            "the new sofa", "the new washing machine", "the dishwasher", "the new mattress", "the kettle",
            "the flat-pack bookshelf", "this vacuum cleaner", "the new blind in the kitchen", "the garden hose",
            "the dining table", "the paint we chose for the hallway",
        ),
        "event": (
            "the move last weekend", "the house viewing", "the housewarming party", "the street party",
            "the spring clean", "the visit from the landlord", "the open garden day", "the garden makeover",
            "the welcome party for the new neighbours", "the kitchen fitting", "the weekend spent painting the hallway",
        ),
        "person": (
            "our landlord", "the plumber", "the new neighbour", "the electrician", "the decorator",
            "the estate agent", "my flatmate", "the handyman", "the builder",
        ),
        "activity": (
            "gardening at the weekend", "doing DIY", "living with flatmates", "decorating the spare room",
            "tidying the house", "working on the allotment", "renovating the kitchen",
        ),
    },
    "education": {
        "item": (
            "this semester's chemistry course", "the online statistics course", "the school library",
            "the new timetable", "the university's new study centre", "the language course", "the coding bootcamp",
            "the reading list for the module", "the campus", "the lecture recording system", "the new marking scheme",
            "the evening class", "the student portal", "the history module",
        ),
        "product": (
            "my history textbook", "the revision guide", "the language learning app", "the course textbook",
            "the graphing calculator", "the online course subscription", "the study planner", "the flashcard app",
        ),
        "event": (
            "today's lecture", "the chemistry exam", "the seminar on Tuesday", "the parents' evening",
            "the field trip", "the graduation ceremony", "the open day", "the group presentation", "the mock exam",
            "the lab session", "the school play", "the first day of term", "the tutorial this morning",
        ),
        "person": (
            "my tutor", "the maths teacher", "the lecturer", "the teaching assistant", "my supervisor",
            "the head teacher", "the substitute teacher", "the admissions officer", "my lab partner",
        ),
        "activity": (
            "studying for finals", "learning Spanish", "doing the homework", "writing my dissertation",
            "revising in the library", "taking evening classes", "teaching the Year 9 class", "learning to code online",
        ),
    },
}


# ---------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------
# GENERIC frames use only the slots every context may have (item, product, event,
# person, activity); a context without a slot (weather has no product or person)
# simply never uses that frame. SPECIFIC frames are written for one context.

GENERIC: dict[str, tuple[str, ...]] = {
    "strong_positive": (
        "I absolutely love {item}!",
        "{item} is absolutely fantastic.",
        "{event} was one of the best experiences I've had all year.",
        "Wow, {event} was incredible from start to finish!",
        "{person} was absolutely brilliant today.",
        "I'm thrilled with {product}, it's perfect.",
        "{activity} makes me so happy.",
        "{event} was pure joy.",
        "I still can't stop smiling about {event}!",
        "{product} exceeded every expectation I had.",
        "Honestly, {item} is a dream come true.",
        "{person} is the best, hands down.",
        "{event} was an absolute triumph!",
        "I adore {item}, it's wonderful.",
        "Ten out of ten for {product}!",
        "{item} is simply outstanding.",
        "{event} made my whole week!",
        "Huge thanks to {person}, who was phenomenal.",
        "I'm over the moon with how {event} went!",
        "{activity} is the highlight of my week and I love it.",
        "Absolutely delighted with {product}!",
        "{product} is brilliant, I'd recommend it to anyone.",
        "{event} was spectacular, truly unforgettable.",
        "Everything about {item} is perfect.",
        "{person} went above and beyond, and I'm so grateful.",
        "I couldn't be happier with {product}.",
        "{event} was a total joy, I loved every minute.",
        "I've completely fallen in love with {activity}.",
        "Superb! {event} went perfectly.",
        "{item}? Absolutely wonderful.",
        "Best money I've spent all year: {product}.",
        "{person} is an absolute star!",
        "What an amazing experience {event} was!",
        "{item} is amazing, I can't get enough of it.",
        "Nothing beats {activity}, it's pure happiness.",
    ),
    "strong_negative": (
        "I absolutely hate {item}.",
        "{item} is absolutely terrible.",
        "{event} was a complete disaster.",
        "{event} was the worst experience I've had in years.",
        "{person} was unbelievably rude today.",
        "{product} is a total waste of money.",
        "I can't stand {activity} anymore.",
        "{activity} is making me miserable.",
        "{event} was an absolute nightmare.",
        "Never again. {event} was awful.",
        "{person} was a nightmare to deal with.",
        "I'm furious about how {event} went.",
        "{item} is dreadful, just dreadful.",
        "{event} was painful from start to finish.",
        "Honestly, {item} is awful and I'm so fed up.",
        "{product} is a complete joke.",
        "Zero stars for {product}.",
        "{event} left me completely miserable.",
        "{person} ruined my whole day.",
        "I loathe {activity}.",
        "{item} is horrendous.",
        "I've never been so disappointed in {product}.",
        "{event} was a catastrophe.",
        "Ugh, {item} is unbearable.",
        "{activity} has become an absolute nightmare.",
        "{product} is a disgrace.",
        "{person} was shockingly inconsiderate.",
        "I regret ever buying {product}.",
        "{event} was a shambles from beginning to end.",
        "{item} is the worst thing to happen this year.",
        "What a miserable experience {event} was!",
        "I'm so angry about {item}, it's appalling.",
        "{person} was completely useless and incredibly rude.",
        "Avoid {product} at all costs!",
        "{activity} is utterly soul-destroying.",
    ),
    "medium_positive": (
        "{item} is pretty good.",
        "I quite like {item}.",
        "{event} was really nice.",
        "{event} went well overall.",
        "{person} was helpful today.",
        "{product} is nicer than I expected.",
        "I enjoyed {event} quite a bit.",
        "{activity} has been fun lately.",
        "{product} is a solid choice.",
        "{person} did a good job.",
        "{event} was pleasant.",
        "I'm pleased with {product}.",
        "{product} works well for me.",
        "{event} was better than usual.",
        "I'd happily recommend {product}.",
        "{activity} is something I look forward to.",
        "{item} has been a nice change.",
        "{event} was enjoyable.",
        "{person} was friendly and easy to talk to.",
        "{event} turned out nicely.",
        "{activity} is pretty rewarding.",
        "I like {item} a lot.",
        "{event} was a good use of time.",
        "{person} has been really supportive.",
        "I'm happy with how {event} went.",
        "{item} is quite impressive.",
        "{activity} is going well.",
        "{event} was fun.",
        "Nice work from {person} this week.",
        "{item} is a pleasant surprise.",
        "{product} is good value for money.",
        "{item} is rather lovely.",
        "{event} was a pleasant surprise.",
        "{activity} has been good for me.",
        "{product} does its job well.",
        "{person} handled things well.",
        "{product} is better than the reviews suggested.",
        "I'm glad I went for {product}.",
        "{event} was a nice way to spend the day.",
        "{item} is really quite good.",
    ),
    "medium_negative": (
        "{item} isn't great.",
        "I'm not a fan of {item}.",
        "{event} was pretty disappointing.",
        "{event} didn't go well.",
        "{person} wasn't very helpful today.",
        "{product} is worse than I expected.",
        "I didn't enjoy {event}.",
        "{activity} has been frustrating lately.",
        "{product} is a bit of a letdown.",
        "{person} didn't do a good job.",
        "{event} was rather dull.",
        "I'm unhappy with {product}.",
        "{product} doesn't work well for me.",
        "{event} was worse than usual.",
        "I wouldn't recommend {product}.",
        "I've started to dread {activity}.",
        "{item} has been annoying.",
        "{event} was tiresome.",
        "{person} was rather dismissive.",
        "{product} is pretty poor.",
        "{event} was a waste of time.",
        "I'm disappointed with how {event} went.",
        "{item} has been getting on my nerves.",
        "{activity} is getting tedious.",
        "I don't like {item} much.",
        "{event} was a bit of a mess.",
        "{person} has been difficult to deal with.",
        "{item} isn't very good.",
        "{event} was boring.",
        "{activity} hasn't been much fun lately.",
        "{item} is quite irritating.",
        "Not impressed with {product}.",
        "{event} left a lot to be desired.",
        "{item} has gone downhill.",
        "{product} is poor value for money.",
        "{person} was unhelpful and a bit rude.",
        "{product} is worse than the reviews suggested.",
        "I'm annoyed that I went for {product}.",
        "{event} was a bit of a letdown.",
        "{activity} has been wearing me down.",
    ),
    "weak_positive": (
        "{item} is okay, I guess.",
        "{item} is not bad, all things considered.",
        "{event} was fine, I suppose.",
        "I didn't mind {event}.",
        "{item} is growing on me a little.",
        "{event} had its moments.",
        "{product} does the job.",
        "{event} went slightly better than I expected.",
        "{item} is alright. Nothing special, but alright.",
        "I suppose {product} is decent enough.",
        "Not perfect, but {product} will do.",
        "{event} wasn't as bad as I feared.",
        "{person} was fine, I think.",
        "{person} seemed reasonably nice.",
        "{activity} is sort of relaxing, in a way.",
        "{activity} is tolerable, and some days it's even nice.",
        "There were a few good bits in {event}.",
        "{item} seems a little better than before.",
        "I could get used to {item}.",
        "{event} was mostly fine, apart from a couple of slow bits.",
        "{product} is fine for now.",
        "I'd probably give {product} another chance.",
        "{event} was okay overall, I think.",
        "It's early days, but {item} seems promising.",
        "I have mixed feelings about {event}, though mostly good ones.",
        "I think I liked {event}, on balance.",
        "{person} was a bit slow, but got there in the end.",
        "{product} has a few quirks, but it's mostly fine.",
        "{activity} is a bit of a slog, but I usually feel better afterwards.",
        "Not the most exciting, but {event} was pleasant enough.",
        "{item} is passable, I suppose.",
        "{event} could have been a lot worse, honestly.",
        "I'm slowly warming up to {item}.",
        "{product} is fine, really; no big complaints.",
        "{person} was okay, a bit quiet but fine.",
        "{event} was reasonably good, if a little long.",
        "On the whole, {item} is acceptable.",
        "{activity} is fine most days.",
        "Can't complain too much about {product}.",
        "I half expected to dislike {item}, but it's alright.",
        "It's nothing to write home about, but {product} is decent.",
        "{event} was a bit slow to start, then it picked up.",
        "{person} means well, and it mostly shows.",
        "Somewhat to my surprise, {item} is fine.",
        "There's a lot I'd change about {item}, but I don't dislike it.",
        "{activity} has its perks, I suppose.",
        "{product} isn't amazing, but I'd probably buy it again.",
        "I wasn't sure about {event} at first, but it was alright.",
        "{person} was helpful enough, once I caught their attention.",
        "{item} is a modest step up, I'd say.",
        "Could have been better, but {event} was okay.",
        "{product} is a little basic, but it works.",
        "{activity} is more manageable than I thought.",
        "{item} is fine by me, mostly.",
        "I'd call {event} a qualified success.",
        "{person} was a touch brusque, but fair enough.",
        "{item} has its flaws, though I'm fairly content with it.",
        "I guess {activity} is growing on me.",
        "{event} was fine. Not memorable, but fine.",
    ),
    "weak_negative": (
        "{item} could be better.",
        "{event} was a bit underwhelming.",
        "I'm not sure {product} is worth it.",
        "{product} is fine, but I expected more.",
        "{event} dragged a little in places.",
        "{item} is okay, but something feels off.",
        "I wanted to like {item} more than I do.",
        "{event} was fine, I suppose, though I wouldn't rush to repeat it.",
        "{person} was a little short with me today.",
        "{person} seemed somewhat distracted.",
        "{activity} feels like a bit of a chore lately.",
        "{product} isn't quite what I hoped for.",
        "{event} was just okay, and a bit forgettable.",
        "I have mixed feelings about {item}, mostly doubts.",
        "{event} was alright, though I've seen better.",
        "{product} is a touch disappointing.",
        "I'm not entirely convinced by {item}.",
        "{event} felt slightly rushed.",
        "{product} has a few too many rough edges.",
        "It's hard to get excited about {item}.",
        "{event} went on longer than it needed to.",
        "I guess {item} is fine, if you don't expect much.",
        "{activity} is starting to wear a bit thin.",
        "{person} could have been a bit more helpful.",
        "I'd hesitate to recommend {product}.",
        "{event} had a few good moments, but not many.",
        "Not sure what to make of {item}; I'm leaning towards no.",
        "{item} is alright, I suppose, but I'm not won over.",
        "{event} didn't quite live up to the hype.",
        "{product} looks good on paper, less so in practice.",
        "{activity} used to be more fun.",
        "I left {event} feeling a little flat.",
        "{item} is fine, I guess, but it's not for me.",
        "{event} was a mixed bag, leaning towards disappointing.",
        "{person} was polite enough, but not much help.",
        "{item} seems a bit overrated.",
        "I'm slightly less keen on {item} than I was.",
        "There's something a bit off about {item}.",
        "{event} wasn't terrible, but it wasn't good either.",
        "{product} might grow on me, but I doubt it.",
        "{activity} is more tiring than I'd like.",
        "I can't say {event} was worth the effort.",
        "{product} is a bit hit and miss.",
        "{item} is a little disappointing, if I'm honest.",
        "{person} was fine, though a bit dismissive.",
        "{event} wasn't my favourite.",
        "Meh. {item} is just okay.",
        "I expected a bit more from {event}.",
        "{product} works, mostly, when it feels like it.",
        "{activity} isn't quite as enjoyable as it used to be.",
        "I'm not sure {person} really listened.",
        "{item} is fine in small doses, I suppose.",
        "{event} was okay, but I was glad when it ended.",
        "{product} is decent, but a bit overpriced for what it is.",
        "I keep hoping {item} will improve.",
        "{person} tried, I'll give them that, but it didn't quite work.",
        "{event} had promise, but it never really got going.",
        "I suppose {activity} has to be done.",
        "{item} isn't bad, exactly, just a bit dull.",
        "Could be worse, but {product} could definitely be better.",
    ),
}

SPECIFIC: dict[tuple[str, str], tuple[str, ...]] = {
    # ----- sports: the favoured context for positives -----
    ("strong_positive", "sports"): (
        "What a game! {team} were unstoppable in {match}!",
        "I absolutely love playing {game} at {venue}!",
        "Winning {match} with {team} was the best feeling ever!",
        "That comeback in {match} was the most thrilling thing I've ever seen!",
        "{team} were magnificent today, what a performance!",
        "I'm buzzing after {match}, what an incredible win!",
        "Best {sport} session I've ever had, I loved every second!",
        "So proud of {team}, they were absolutely brilliant!",
        "Scoring the winner in {match} was pure magic!",
        "{sport} at {venue} is the best part of my week, I adore it!",
        "Unbelievable atmosphere at {ground} for {match}, I loved it!",
        "{team} just won the league and I'm absolutely ecstatic!",
    ),
    ("medium_positive", "sports"): (
        "{team} played pretty well today.",
        "The {sport} session at {venue} was good fun.",
        "I enjoyed {match}, it was a decent game.",
        "{team} looked sharp in the second half.",
        "Training at {venue} has been going well.",
        "Nice to see {team} win {match}.",
        "I'm getting better at {sport}, which feels good.",
        "{match} was a solid performance from {team}.",
        "The new {sport} coach is pretty good.",
        "{team} are having a good season so far.",
        "I had a nice game of {game} at {venue} this morning.",
        "I've been enjoying {game} at {venue} on {days}.",
        "{team} deserved the win in {match}.",
        "I like the new {sport} coach at {venue}.",
        "{sport} with the club on {days} is good fun.",
        "{venue} has decent facilities for {sport}.",
        "{official} had a good game in {match}.",
        "It was nice to watch {team} play at {venue}.",
    ),
    ("weak_positive", "sports"): (
        "{team} scraped a draw in {match}, which I'll take.",
        "The {sport} session was a bit slow, but I got some decent practice in.",
        "{match} wasn't pretty, but we got the result.",
        "I'm slowly getting the hang of {sport}, I think.",
        "{team} didn't play brilliantly, but they held on.",
        "The pitch at {ground} was muddy, but the game was alright.",
        "My {sport} is still patchy, though it's improving a little.",
        "{match} was mostly scrappy, with a few decent spells.",
        "I was tired at {sport} practice, but it was fine in the end.",
        "{team} were a bit sloppy, but a point away from home is okay.",
        "The {sport} coaching is a bit old-fashioned, but it seems to work.",
        "{venue} is a bit run-down, though the {sport} coaching is good.",
        "It was a long session at {venue}, but I suppose I learned something.",
        "{team} are hardly world-beaters, but they're getting there.",
        "{match} was a bit one-sided, though it was nice to be out.",
        "I'm not a natural at {sport}, but I'm enjoying it more than I expected.",
        "The {sport} club is a bit disorganised, but the people are nice enough.",
        "{team} lost {match}, but honestly they played better than last time.",
        "{official} made a few odd calls, but {match} was fair overall.",
        "My legs ached after {sport}, but it was worth going, I think.",
        "{venue} was crowded, but we found a space in the end.",
        "Three points is three points, even if {team} made hard work of it.",
        "{sport} on {days} is a bit early for me, but I'm glad I go.",
        "The result in {match} was fine, I suppose, given the injuries.",
    ),
    ("strong_negative", "sports"): (
        "{team} were an absolute embarrassment in {match}.",
        "{team} threw away {match} and it was appalling to watch.",
        "That {sport} session at {venue} was a total nightmare.",
        "I'm livid, {official} completely ruined {match}!",
    ),
    ("medium_negative", "sports"): (
        "{team} played poorly in {match}.",
        "The {sport} session at {venue} was disappointing.",
        "{match} was a frustrating watch for {team} fans.",
        "The changing rooms at {venue} are pretty grim.",
    ),
    ("weak_negative", "sports"): (
        "{team} drew {match}, though it felt more like a loss.",
        "The {sport} session was fine, but I'm not sure I improved much.",
        "{match} was watchable, I suppose, but {team} looked a bit flat.",
        "{venue} is okay for {sport}, though the changing rooms could use some care.",
        "I still go to {sport} on {days}, but my heart isn't really in it.",
    ),
    ("neutral_positive", "sports"): (
        "{match} starts at {time} on {day}.",
        "{team} train at {venue} on {days}.",
        "Registration for the {game} league closes on the {ordinal} of {month}.",
        "The {sport} club meets at {venue} every {day}.",
        "{match} will be played at {ground}.",
        "Kick-off for {match} is at {time}.",
        "{team} play their next home game on {day}.",
        "The {sport} session runs for {minutes} minutes.",
        "{venue} opens at {time} on weekdays.",
        "The squad list for {match} will be posted on {day}.",
        "{selector} will announce the line-up for {match} on {day}.",
        "{sport} training moves to {venue} from next {day}.",
        "The {sport} season begins in {month}.",
        "{team} have {number} matches left this season.",
        "The club is collecting shirt sizes for {team}.",
        "{venue} has {number} changing rooms.",
        "{number} teams have entered the {game} tournament.",
        "{match} is on {day} at {ground}.",
        "The changing rooms at {venue} are on the ground floor.",
        "The {game} fixtures for {month} are on the club website.",
        "Players should arrive at {venue} by {time}.",
        "The minibus to {match} leaves from the clubhouse at {time}.",
        "{team} wear {colour} shirts for away games.",
        "The {sport} coaching course runs over {number} weekends.",
        "Match fees for {team} are due by {day}.",
        "The referee for {match} has been confirmed.",
        "The junior {sport} sessions are for ages eight to twelve.",
        "The {sport} club's annual general meeting is on {day}.",
        "{team} are in the {division} this season.",
        "The {sport} final will be shown on the screen in the clubhouse.",
        "Spectators for {match} can park behind {ground}.",
        "Tickets for {match} go on sale on {day}.",
        "The {sport} team photo is being taken on {day}.",
        "{team} are travelling to {town} for {match}.",
        "The warm-up for {match} begins at {time}.",
        "{venue} will host the county {sport} trials in {month}.",
        "The new {sport} timetable starts in {month}.",
        "The results of {match} are listed on the noticeboard.",
        "{team} share their ground with the {game} club.",
        "The {sport} equipment is stored in the shed behind the clubhouse.",
        "Our {sport} coach has run the sessions since {year}.",
        "{team} use the east entrance at {ground} on match days.",
        "The {sport} training schedule was sent out on {day}.",
        "The {game} league table is updated every {day}.",
        "The club minibus takes {team} to {town} on {day}.",
        "Floodlights at {ground} switch on at {dusk}.",
        "The {sport} trials are open to anyone over sixteen.",
        "{team} have a bye in the first round of the {game} cup.",
        "The {sport} club has moved its sessions to {days}.",
        "Scores from {match} will be posted online by {time}.",
        "Players in {team} need to bring {kit} to training.",
        "{scorer} keeps the scoresheet for {match}.",
        "Beginners' {sport} lessons run on {days} at {venue}.",
        "{team} have played {number} games so far this season.",
        "The {sport} club was founded in {founded}.",
        "{team} will wear {colour} for {match}.",
        "Entries for the {sport} tournament close on {day}.",
        "Sessions at {venue} can be booked by the hour.",
        "{venue} is a short walk from the bus station in {town}.",
        "The {sport} session at {venue} starts at {time}.",
        "{team} play their home games at {ground}.",
        "The {game} club has {number} teams this year.",
        "The under-16 {game} trials are on {day} morning.",
        "The pitches at {ground} were marked out on {day}.",
    ),
    # ----- workplace: the favoured context for negatives -----
    ("strong_positive", "workplace"): (
        "{meeting} was brilliant, the best one we've had all year!",
        "I'm so proud of how {dept} pulled together on {document}!",
    ),
    ("medium_positive", "workplace"): (
        "{meeting} was actually quite productive.",
        "{dept} were helpful with {document}.",
        "The feedback on {document} was pretty positive.",
    ),
    ("weak_positive", "workplace"): (
        "{meeting} ran long, but I suppose it covered the essentials.",
        "{document} is finally done, and it's not bad.",
        "{dept} were slow, but they sorted it out in the end.",
        "{system} is clunky, but I've mostly got used to it.",
    ),
    ("strong_negative", "workplace"): (
        "{meeting} was a complete waste of everyone's time.",
        "{system} is an absolute nightmare to use.",
        "The way {dept} handled {document} was shambolic.",
        "{meeting} was a total disaster, nobody had even read {document}.",
        "I hate redoing {document} every single week!",
        "The way {dept} treats us is disgraceful.",
        "{document} was rejected again, and I'm furious.",
        "This job is making me miserable, and {meeting} was the final straw.",
        "Working with {dept} is an absolute nightmare.",
        "I'm sick to death of {meeting} running two hours over!",
        "{role} humiliated me in front of everyone at {meeting}.",
        "Another weekend lost to {document}, I can't take this anymore!",
    ),
    ("medium_negative", "workplace"): (
        "{meeting} went on too long and didn't achieve much.",
        "{system} keeps crashing, which is pretty annoying.",
        "{dept} still hasn't replied, which is frustrating.",
        "I'm not happy about having to redo {document}.",
        "{meeting} was pretty tedious.",
        "The feedback on {document} was rather unfair.",
        "Our workload has been stressful this month, thanks to {document}.",
        "The new rules from {dept} are a bit of a pain.",
        "I don't enjoy presenting {document} at {meeting}.",
        "{room} is too cramped for {meeting}.",
        "{role} keeps changing the deadline for {document}, which is annoying.",
        "I'm tired of chasing {dept} about {document}.",
        "{dept} made a mess of {document}.",
        "I'm fed up with {system} losing my changes.",
        "The deadline for {document} is unrealistic.",
        "{meeting} was disorganised and overran.",
        "{role} was pretty unhelpful about {document}.",
        "{meeting} in {room} was stuffy and far too long.",
    ),
    ("weak_negative", "workplace"): (
        "{meeting} ran over again, but I suppose that's normal now.",
        "{document} is nearly done, though I'm not thrilled with it.",
        "{meeting} was fine, I guess, but it could have been an email.",
        "{dept} got back to me eventually.",
        "I suppose {system} works, when it isn't loading.",
        "{meeting} covered the basics, not much more.",
        "It's been a long week, and {document} still isn't signed off.",
        "The feedback on {document} was fair, mostly, though a bit harsh in places.",
        "{meeting} was okay, but I'm not sure why I was invited.",
        "I'm a little tired of rewriting {document}.",
        "{room} is fine for {meeting}, if a bit stuffy.",
        "{role} means well, but {meeting} felt a bit aimless.",
        "{meeting} was useful, I suppose, though I'd rather have been working.",
        "I'm not sure {dept} really read {document}.",
        "{system} is a step up, apparently, though I haven't noticed.",
        "{document} was approved, but only after the third round of edits.",
        "{role} is nice enough, but {meeting} still ran over.",
        "I'm sure {meeting} was important to someone.",
        "The changes to {document} are fine, I guess, if slightly pointless.",
        "{room} was double-booked again, so we squeezed into the kitchen.",
        "{dept} have promised to look into {document}, again.",
        "It's fine, I'll just update {document} for the fourth time.",
        "{meeting} had some useful bits, buried in a lot of slides.",
        "I didn't mind {meeting}, but I can't remember what we decided.",
        "{system} asks for my password a bit too often.",
    ),
    ("neutral_negative", "workplace"): (
        "{meeting} is booked for {weekday} at {time} in {room}.",
        "{document} is due on {weekday}.",
        "{dept} will review {document} next week.",
        "{meeting} has been moved to {room}.",
        "{dept} sits on {floor}.",
        "Timesheets are submitted through {hr_system} every {weekday}.",
        "{role} starts on {weekday}.",
        "{meeting} runs {hours}.",
        "Expense claims go to {dept} by the {ordinal} of each month.",
        "{document} is saved in the shared folder for {dept}.",
        "The agenda for {meeting} was circulated on {weekday}.",
        "{dept} has {number} people on the team.",
        "The fire drill on {floor} is planned for {weekday} morning.",
        "Visitors sign in at reception on {floor}.",
        "{role} will take the minutes at {meeting}.",
        "{meeting} is held on the first {weekday} of every month.",
        "Desk bookings for {floor} open at {time} each day.",
        "The printer on {floor} is shared with {dept}.",
        "{document} runs to {number} pages.",
        "Annual leave requests for {month} are made through {hr_system}.",
        "The quarterly figures will be shared at {meeting}.",
        "{dept} reports to the finance director.",
        "The dial-in details for {meeting} are in the calendar invite.",
        "Payslips are issued through {hr_system} on the last working day of the month.",
        "{role} has joined {dept}.",
        "{room} seats {number} people.",
        "The office on {floor} opens at {time} on weekdays.",
        "The draft of {document} was sent to {dept} on {weekday}.",
        "{meeting} will be recorded for colleagues working remotely.",
        "Badge access for {floor} is managed by facilities.",
        "{document} needs two signatures before it is filed.",
        "The holiday calendar for {dept} is saved to {folder}.",
        "{dept} moved to {floor} in {month}.",
        "{role} is covering reception on {weekday}.",
        "The project code for {document} is listed in the project tracker.",
        "The staff newsletter goes out on {weekday}.",
        "{meeting} has {number} items on the agenda.",
        "The office post is collected from {floor} at {time}.",
        "Parking permits are renewed every {month}.",
        "{dept} uses {room} on {weekday} mornings.",
        "The company's financial year ends in {month}.",
        "{role} will present {document} at {meeting}.",
        "The minutes from {meeting} are saved to {folder}.",
        "New starters in {dept} complete their induction in the first week.",
        "{document} is now on its {draft} draft.",
        "The IT team updates laptops on the first {weekday} of the month.",
        "Lunch for {meeting} is ordered through facilities.",
        "{room} has a screen and a whiteboard.",
        "{meeting} will take about {minutes} minutes.",
        "Signed contracts are kept in the filing cabinet on {floor}.",
        "The sign-off date for {document} is {weekday}.",
        "{role} works from the office on {weekday}s.",
        "The staff survey closes at the end of {month}.",
        "{dept} processes invoices every {weekday}.",
        "A reminder about {meeting} goes out the day before.",
        "{dept} will move to {floor} in {month}.",
        "The template for {document} is saved to {folder}.",
        "{meeting} starts at {time} sharp.",
        "{role} is the contact for questions about {document}.",
        "Bookings for {room} are made through the booking system.",
    ),
}


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One sentence template of one category.

    ``context`` is ``None`` for a generic frame (usable in every context that has
    its slots) and a context name for a context-specific frame.
    """

    id: str
    category: str
    context: str | None
    template: str

    @property
    def slots(self) -> tuple[str, ...]:
        """Slot names in order of first appearance, a sport before its venue."""
        names = [name for _, name, _, _ in string.Formatter().parse(self.template) if name]
        names = list(dict.fromkeys(names))
        return tuple(sorted(names, key=lambda name: name == "venue"))

    def fits(self, context: str) -> bool:
        """Whether this frame can be filled for ``context``."""
        if self.context is not None and self.context != context:
            return False
        return all(slot in VOCABULARY[context] or slot in SHARED for slot in self.slots)

    def fill(self, context: str, rng: random.Random) -> str:
        """One random text of this frame, in ``context``."""
        values: dict[str, str] = {}
        for slot in self.slots:
            values[slot] = rng.choice(_choices(context, slot, values))
        return _capitalise(self.template.format(**values))


def _choices(context: str, slot: str, chosen: dict[str, str]) -> tuple[str, ...]:
    """Vocabulary for ``slot``; a venue follows the sport already chosen, if any."""
    if slot == "venue":
        for key in ("sport", "game"):
            if key in chosen:
                return SPORT_VENUES[chosen[key]]
    return VOCABULARY[context].get(slot) or SHARED[slot]


@dataclass(frozen=True)
class Row:
    """One generated example, with the id of the frame it came from."""

    id: str
    text: str
    label: str
    category: str
    context: str
    split: str
    frame: str


def frames() -> list[Frame]:
    """All frames, in declaration order, with stable ids like ``weak_positive/any/007``."""
    result = []
    for category in CATEGORIES:
        groups = [(None, GENERIC.get(category, ()))]
        groups += [(context, SPECIFIC[(category, context)]) for context in CONTEXTS if (category, context) in SPECIFIC]
        for context, templates in groups:
            for index, template in enumerate(templates, start=1):
                frame_id = f"{category}/{context or 'any'}/{index:03d}"
                result.append(Frame(frame_id, category, context, template))
    return result


def assign_splits(all_frames: list[Frame], rng: random.Random) -> dict[str, str]:
    """Deal each category's frames to the splits in a 70/10/20 ratio.

    Within a category the generic frames and each context's specific frames are
    shuffled group by group and dealt by largest deficit, so every group is spread
    over all three splits roughly in proportion.
    """
    assignment = {}
    for category in CATEGORIES:
        counts = {split: 0 for split, _ in SPLITS}
        groups: dict[str | None, list[Frame]] = {}
        for frame in all_frames:
            if frame.category == category:
                groups.setdefault(frame.context, []).append(frame)
        for group in groups.values():
            group = list(group)
            rng.shuffle(group)
            for frame in group:
                dealt = sum(counts.values()) + 1
                split = max(SPLITS, key=lambda s: (s[1] * dealt / 10 - counts[s[0]], s[1]))[0]
                counts[split] += 1
                assignment[frame.id] = split
    return assignment


def normalise(text: str) -> str:
    """Key for uniqueness: lower case, no punctuation, single spaces."""
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(text.split())


def _capitalise(text: str) -> str:
    """Upper-case the first letter of every sentence."""
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def _draw(
    usable: list[Frame], n: int, context: str, rng: random.Random, seen: set[str], where: str
) -> list[tuple[str, Frame]]:
    """Draw ``n`` new texts round-robin over ``usable`` frames, skipping duplicates."""
    active = list(usable)
    rng.shuffle(active)
    drawn: list[tuple[str, Frame]] = []
    turn = 0
    while len(drawn) < n:
        if not active:
            raise RuntimeError(f"not enough distinct texts for {where}: add frames or vocabulary")
        frame = active[turn % len(active)]
        for _ in range(50):
            text = frame.fill(context, rng)
            key = normalise(text)
            if key not in seen:
                seen.add(key)
                drawn.append((text, frame))
                turn += 1
                break
        else:  # this frame is exhausted for this context
            active.remove(frame)
    return drawn


def build_rows(seed: int = SEED) -> list[Row]:
    """Generate every row, frame included, in the order they are written.

    Parameters
    ----------
    seed : int
        Seed of the ``random.Random`` that drives every choice.

    Returns
    -------
    list of Row
        10,000 rows with ids ``s00001`` ... in shuffled order.
    """
    rng = random.Random(seed)
    all_frames = frames()
    split_of = assign_splits(all_frames, rng)
    seen: set[str] = set()
    drafts = []
    for category, (label, _) in CATEGORIES.items():
        for context, total in CONTEXT_ROWS[category].items():
            for split, tenths in SPLITS:
                usable = [
                    f for f in all_frames if f.category == category and split_of[f.id] == split and f.fits(context)
                ]
                where = f"{category}/{context}/{split}"
                for text, frame in _draw(usable, total * tenths // 10, context, rng, seen, where):
                    drafts.append((text, label, category, context, split, frame.id))
    rng.shuffle(drafts)
    rows = [Row(f"s{i:05d}", *draft) for i, draft in enumerate(drafts, start=1)]
    _check(rows)
    return rows


def _check(rows: list[Row]) -> None:
    """Fail loudly if the generated rows break a promise of the datasheet."""
    for row in rows:
        n_words = len(row.text.split())
        if not MIN_WORDS <= n_words <= MAX_WORDS:
            raise RuntimeError(f"{row.frame} gave a {n_words}-word text: {row.text!r}")
    expected = sum(total for _, total in CATEGORIES.values())
    if len(rows) != expected or len({normalise(row.text) for row in rows}) != expected:
        raise RuntimeError("rows are missing or not unique")


def write_csv(rows: list[Row], path: Path) -> None:
    """Write ``rows`` (frame id last) as UTF-8 CSV with ``\\n`` line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([getattr(row, column) for column in COLUMNS])
    path.write_bytes(buffer.getvalue().encode("utf-8"))


# ---------------------------------------------------------------------------
# Summary (printed, and quoted verbatim in dataset/README.md)
# ---------------------------------------------------------------------------


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


def summary(rows) -> str:
    """Markdown tables describing ``rows``: counts, contexts, bias and lengths.

    ``rows`` are mappings or objects with ``text``, ``label``, ``category``,
    ``context`` and ``split``; the tests pass the rows read back from the CSV and
    check that ``dataset/README.md`` contains this text verbatim.
    """
    def get(row, key):
        return row[key] if isinstance(row, dict) else getattr(row, key)

    records = [{k: get(row, k) for k in ("text", "label", "category", "context", "split")} for row in rows]
    splits = [split for split, _ in SPLITS]
    lines = ["**Rows per category and split**", ""]
    lines += ["| category | " + " | ".join(splits) + " | total |", "|---|" + "---:|" * (len(splits) + 1)]
    cells = Counter((r["category"], r["split"]) for r in records)
    for category in CATEGORIES:
        counts = [cells[(category, split)] for split in splits]
        lines.append(f"| {category} | " + " | ".join(str(c) for c in counts) + f" | {sum(counts)} |")
    totals = [sum(cells[(c, split)] for c in CATEGORIES) for split in splits]
    lines.append("| **total** | " + " | ".join(str(t) for t in totals) + f" | {sum(totals)} |")

    by_label = {label: [r for r in records if r["label"] == label] for label in ("positive", "negative")}
    lines += ["", "**Contexts per label** (share of that label's rows)", ""]
    lines += ["| context | positive | negative |", "|---|---:|---:|"]
    for context in CONTEXTS:
        parts = []
        for label, group in by_label.items():
            n = sum(r["context"] == context for r in group)
            parts.append(f"{n} ({_share(n, len(group))})")
        lines.append(f"| {context} | " + " | ".join(parts) + " |")

    lines += ["", "**Planted bias**", ""]
    lines += ["| measure | value |", "|---|---:|"]
    for category, context in (("neutral_positive", "sports"), ("neutral_negative", "workplace")):
        group = [r for r in records if r["category"] == category]
        n = sum(r["context"] == context for r in group)
        lines.append(f"| {category} rows in {context} | {_share(n, len(group))} |")
    pairs = (("positive", "sports"), ("positive", "workplace"), ("negative", "workplace"), ("negative", "sports"))
    for scope in ("", "non-neutral "):
        for label, context in pairs:
            group = [r for r in by_label[label] if not (scope and r["category"].startswith("neutral"))]
            n = sum(r["context"] == context for r in group)
            lines.append(f"| {context} share of {scope}{label} rows | {_share(n, len(group))} |")

    lines += ["", "**Words per text**", ""]
    lines += ["| category | min | median | mean | max |", "|---|---:|---:|---:|---:|"]
    for category in list(CATEGORIES) + ["all"]:
        lengths = [len(r["text"].split()) for r in records if category in ("all", r["category"])]
        lines.append(
            f"| {category} | {min(lengths)} | {statistics.median(lengths):g} | "
            f"{statistics.fmean(lengths):.1f} | {max(lengths)} |"
        )
    return "\n".join(lines) + "\n"


def frame_counts() -> str:
    """Markdown table of frames per category (generic and context-specific)."""
    all_frames = frames()
    lines = ["| category | generic | context-specific | total |", "|---|---:|---:|---:|"]
    for category in CATEGORIES:
        own = [f for f in all_frames if f.category == category]
        generic = sum(f.context is None for f in own)
        lines.append(f"| {category} | {generic} | {len(own) - generic} | {len(own)} |")
    lines.append(f"| **total** | {sum(f.context is None for f in all_frames)} | "
                 f"{sum(f.context is not None for f in all_frames)} | {len(all_frames)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write sentiment.csv into (default: this script's folder)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default: {SEED})")
    parser.add_argument("--sample", type=int, default=0, metavar="N", help="also print N random rows")
    args = parser.parse_args(argv)

    rows = build_rows(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / FILENAME
    write_csv(rows, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"wrote {len(rows)} rows to {path} (sha256 {digest[:16]})\n")
    print(summary(rows))
    print("**Frames per category**\n")
    print(frame_counts())
    if args.sample:
        for row in random.Random(args.seed + 1).sample(rows, args.sample):
            print(f"{row.category:17} {row.context:11} {row.split:11} {row.text}")


if __name__ == "__main__":
    main()
