"""The names the demo data set is drawn from: people, companies, places, sources.

Pure data and the spelling of emails; no drawing happens here. Sales reps and
the first accounts come from the public Maven Analytics CRM sample (copied
as data); other companies are generated from name parts.
"""

from __future__ import annotations

from domain.enums import CampaignChannel, EngagementKind, Region, Role

DEMO_ADMIN_EMAIL = "admin@salesops.demo"
SALES_ADMIN_NAME = "Sales Admin"
EMAIL_DOMAIN = "salesops.demo"


def _words(text_: str) -> tuple[str, ...]:
    """The distinct words of a text, in order."""
    return tuple(dict.fromkeys(text_.split()))


K = EngagementKind

# Sales reps, managers and accounts of the Maven Analytics "CRM Sales
# Opportunities" sample (public data), copied as data.
# (name, role, region, active, out of office for days)
BASE_USERS: tuple[tuple[str, Role, Region | None, bool, int], ...] = (
    ("Demo Admin", Role.ADMIN, None, True, 0),
    (SALES_ADMIN_NAME, Role.SALES_ADMIN, None, True, 0),
    ("Dustin Brinkmann", Role.SALES_OPS, Region.US_EAST, True, 0),
    ("Celia Rouche", Role.MARKETING_OPS, Region.US_WEST, True, 0),
    ("Melvin Marxen", Role.RD, Region.US_EAST, True, 0),
    ("Darcel Schlecht", Role.AE, Region.US_WEST, True, 0),
    ("Vicki Laflamme", Role.AE, Region.US_WEST, True, 9),
    ("Moses Frase", Role.AE, Region.US_EAST, True, 0),
    ("Violet Mclelland", Role.AE, Region.EMEA, True, 0),
    ("Kary Hendrixson", Role.AE, Region.APAC, True, 0),
    ("Jonathan Berthelot", Role.AE, Region.LATAM, True, 0),
    ("Cassey Cress", Role.SAL, Region.US_EAST, True, 0),
    ("Corliss Cosme", Role.SAL, Region.EMEA, True, 0),
    ("Reed Clapper", Role.SAL, Region.PUBLIC_SECTOR, True, 0),
    ("Garret Kinder", Role.AM, Region.US_EAST, True, 0),
    ("Rosalina Dieter", Role.AM, Region.EMEA, True, 0),
    ("Anna Snelling", Role.BDR, Region.US_EAST, True, 0),
    ("Hayden Neloms", Role.BDR, Region.US_WEST, True, 0),
    ("Wilburn Farren", Role.BDR, Region.US_WEST, False, 0),
    ("Markita Hansen", Role.BDR, Region.EMEA, True, 0),
    ("Carl Lin", Role.BDR, Region.APAC, True, 3),
    ("Boris Faz", Role.BDR, Region.LATAM, True, 0),
    ("Natalya Ivanova", Role.SDR, Region.PUBLIC_SECTOR, True, 0),
    ("Elease Gluck", Role.SDR, Region.US_EAST, True, 0),
    ("Cecily Lampkin", Role.CUSTOMER_ADVOCATE, Region.US_EAST, True, 0),
    ("Rosie Papadopoulos", Role.CUSTOMER_ADVOCATE, Region.EMEA, True, 0),
    ("Mei-Mei Johns", Role.CUSTOMER_ADVOCATE, Region.APAC, True, 0),
    ("Zane Levy", Role.CUSTOMER_SUCCESS, Region.US_WEST, True, 0),
    # so that every routing pool has someone at work (Carl Lin is away)
    ("Hiroshi Tanaka", Role.BDR, Region.APAC, True, 0),
    ("Ingrid Solberg", Role.BDR, Region.EMEA, True, 0),
    ("Marcus Whitfield", Role.SDR, Region.PUBLIC_SECTOR, True, 0),
)
SPARE_REP_NAMES = (
    "Versie Hillebrand",
    "Lajuana Vencill",
    "Marty Freudenburg",
    "Gladys Colclough",
    "Niesha Huffines",
    "Elizabeth Anderson",
    "Donn Cantrell",
    "Kami Bicknell",
    "Maureen Marcano",
    "Carol Thompson",
    "James Ascencio",
    "Cara Losch",
    "Rocco Neubert",
    "Summer Sewald",
)
EXTRA_ROLES = (
    Role.BDR,
    Role.AE,
    Role.SDR,
    Role.BDR,
    Role.AE,
    Role.SAL,
    Role.CUSTOMER_ADVOCATE,
    Role.AM,
)
EXTRA_REGIONS = (
    Region.US_EAST,
    Region.EMEA,
    Region.US_WEST,
    Region.APAC,
    Region.LATAM,
    Region.PUBLIC_SECTOR,
)

# (name, industry, revenue in millions USD, employees, country, parent)
MAVEN_ACCOUNTS: tuple[tuple[str, str, float, int, str, str | None], ...] = (
    ("Acme Corporation", "Technology", 1100.04, 2822, "United States", None),
    ("Betasoloin", "Healthcare", 251.41, 495, "United States", None),
    ("Betatech", "Healthcare", 647.18, 1185, "Kenya", None),
    ("Bioholding", "Healthcare", 587.34, 1356, "Philippines", None),
    ("Bioplex", "Healthcare", 326.82, 1016, "United States", None),
    ("Blackzim", "Retail", 497.11, 1588, "United States", None),
    ("Bubba Gump", "Software", 987.39, 2253, "United States", None),
    ("Cancity", "Retail", 718.62, 2448, "United States", None),
    ("Massive Dynamic", "Entertainment", 665.06, 1095, "United States", None),
    ("Condax", "Healthcare", 4.54, 9, "United States", None),
    ("Conecom", "Technology", 1520.66, 1806, "United States", None),
    ("Inity", "Marketing", 2403.58, 8801, "United States", None),
    ("Domzoom", "Entertainment", 217.87, 551, "United States", None),
    ("Doncon", "Technology", 587.72, 1501, "United States", None),
    ("Dontechi", "Software", 4618.0, 10083, "United States", None),
    ("Donware", "Marketing", 1197.44, 2570, "United States", None),
    ("Fasehatice", "Retail", 4968.91, 7523, "United States", None),
    ("Sonron", "Telecommunications", 1699.85, 5108, "United States", None),
    ("Finhigh", "Financial Services", 1102.43, 1759, "United States", None),
    ("Finjob", "Staffing", 2059.9, 3644, "United States", None),
    ("Golddex", "Financial Services", 52.5, 165, "United States", None),
    ("Ganjaflex", "Retail", 5158.71, 17479, "Japan", None),
    ("Gekko & Co", "Retail", 2520.83, 3502, "United States", None),
    ("Genco Pura Olive Oil Company", "Retail", 894.33, 1635, "Italy", None),
    ("Globex Corporation", "Technology", 1223.72, 2497, "Norway", None),
    ("Warephase", "Services", 2041.73, 5276, "United States", None),
    ("Goodsilron", "Marketing", 2952.73, 5107, "United States", None),
    ("Green-Plus", "Services", 692.19, 1922, "United States", None),
    ("Groovestreet", "Retail", 223.8, 299, "United States", None),
    ("Hatfan", "Services", 792.46, 1299, "United States", None),
    ("Hottechi", "Technology", 8170.38, 16499, "South Korea", None),
    ("Initech", "Telecommunications", 6395.05, 20275, "United States", None),
    ("Isdom", "Healthcare", 3178.24, 4540, "United States", None),
    ("J-Texon", "Retail", 1388.67, 3583, "United States", None),
    ("Kan-code", "Software", 11698.03, 34288, "United States", None),
    ("Kinnamplus", "Retail", 702.72, 1831, "United States", None),
    ("Konex", "Technology", 7708.38, 13756, "United States", None),
    ("Konmatfix", "Marketing", 375.43, 1190, "United States", None),
    ("Labdrill", "Healthcare", 2741.37, 9226, "United States", None),
    ("Lexiqvolax", "Healthcare", 1618.89, 3889, "United States", None),
    ("Mathtouch", "Marketing", 3027.46, 9516, "Jordan", None),
    ("Newex", "Services", 1012.72, 3492, "Germany", None),
    ("Ontomedia", "Staffing", 882.12, 2769, "United States", None),
    ("Opentech", "Financial Services", 355.23, 853, "United States", None),
    ("Plexzap", "Retail", 2437.85, 4874, "United States", None),
    ("Plusstrip", "Entertainment", 349.81, 315, "United States", None),
    ("Plussunin", "Retail", 1419.98, 4018, "United States", None),
    ("Rangreen", "Technology", 2938.67, 8775, "Panama", None),
    ("Rantouch", "Telecommunications", 1188.42, 3015, "United States", None),
    ("Ron-tech", "Healthcare", 3922.42, 6837, "United States", None),
    ("Rundofase", "Technology", 1008.06, 1238, "United States", None),
    ("Silis", "Healthcare", 2818.38, 6290, "United States", None),
    ("Singletechno", "Retail", 2214.94, 5374, "United States", None),
    ("Stanredtax", "Financial Services", 1698.2, 3798, "United States", None),
    ("Statholdings", "Staffing", 291.27, 586, "United States", None),
    ("Streethex", "Retail", 1376.8, 1165, "Belgium", None),
    ("Sumace", "Retail", 167.89, 493, "Romania", None),
    ("Sunnamplex", "Marketing", 894.37, 1593, "Poland", None),
    ("The New York Inquirer", "Healthcare", 439.21, 792, "United States", None),
    ("Toughzap", "Retail", 332.43, 799, "United States", None),
    (
        "Umbrella Corporation",
        "Financial Services",
        2022.14,
        5113,
        "United States",
        None,
    ),
    ("Xx-holding", "Financial Services", 7537.24, 20293, "United States", None),
    ("Xx-zobam", "Entertainment", 3838.39, 8274, "United States", None),
    ("Y-corporation", "Staffing", 2871.35, 9561, "United States", None),
    ("Yearin", "Retail", 2261.05, 3851, "United States", None),
    ("Zathunicon", "Retail", 71.12, 144, "United States", None),
    ("Zencorporation", "Technology", 40.79, 142, "China", None),
    ("Zoomit", "Entertainment", 324.19, 978, "United States", None),
    ("Zotware", "Software", 4478.47, 13809, "United States", None),
    ("Zumgoity", "Healthcare", 441.08, 1210, "United States", None),
    # subsidiaries, after their parents
    ("Bluth Company", "Technology", 1242.32, 3027, "United States", "Acme Corporation"),
    ("Cheers", "Entertainment", 4269.9, 6472, "United States", "Massive Dynamic"),
    ("Codehow", "Software", 2714.9, 2641, "United States", "Acme Corporation"),
    ("Dalttechnology", "Software", 98.79, 96, "United States", "Bubba Gump"),
    ("dambase", "Marketing", 2173.98, 2928, "United States", "Inity"),
    ("Donquadtech", "Technology", 1712.68, 3194, "United States", "Acme Corporation"),
    ("Faxquote", "Telecommunications", 1825.82, 5595, "United States", "Sonron"),
    ("Funholding", "Financial Services", 2819.5, 7227, "United States", "Golddex"),
    ("Gogozoom", "Telecommunications", 86.68, 187, "United States", "Sonron"),
    ("Iselectrics", "Technology", 527.11, 1428, "United States", "Acme Corporation"),
    ("Nam-zim", "Services", 405.59, 1179, "Brazil", "Warephase"),
    ("Scotfind", "Software", 6354.87, 16780, "United States", "Bubba Gump"),
    ("Scottech", "Marketing", 45.39, 100, "United States", "Inity"),
    ("Treequote", "Telecommunications", 5266.09, 8595, "United States", "Sonron"),
    (
        "Vehement Capital Partners",
        "Financial Services",
        646.1,
        883,
        "United States",
        "Golddex",
    ),
)

# (country, state/province, city, postal code, phone prefix, ccTLD, weight)
LOCATIONS: tuple[tuple[str, str | None, str, str, str, str, float], ...] = (
    ("United States", "CA", "San Francisco", "94105", "+1 415", ".com", 6),
    ("United States", "CA", "San Jose", "95113", "+1 408", ".com", 3),
    ("United States", "WA", "Seattle", "98101", "+1 206", ".com", 3),
    ("United States", "TX", "Austin", "78701", "+1 512", ".com", 3),
    ("United States", "TX", "Dallas", "75201", "+1 214", ".com", 2),
    ("United States", "CO", "Denver", "80202", "+1 303", ".com", 2),
    ("United States", "OR", "Portland", "97204", "+1 503", ".com", 1),
    ("United States", "AZ", "Phoenix", "85004", "+1 602", ".com", 1),
    ("United States", "UT", "Salt Lake City", "84101", "+1 801", ".com", 1),
    ("United States", "NY", "New York", "10001", "+1 212", ".com", 6),
    ("United States", "MA", "Boston", "02110", "+1 617", ".com", 3),
    ("United States", "IL", "Chicago", "60601", "+1 312", ".com", 3),
    ("United States", "GA", "Atlanta", "30303", "+1 404", ".com", 2),
    ("United States", "FL", "Miami", "33131", "+1 305", ".com", 2),
    ("United States", "NC", "Raleigh", "27601", "+1 919", ".com", 1),
    ("United States", "VA", "Arlington", "22201", "+1 703", ".com", 2),
    ("United States", "DC", "Washington", "20001", "+1 202", ".com", 1),
    ("United States", "PA", "Philadelphia", "19103", "+1 215", ".com", 1),
    ("United States", "OH", "Columbus", "43215", "+1 614", ".com", 1),
    ("United States", "MN", "Minneapolis", "55401", "+1 612", ".com", 1),
    ("Canada", "ON", "Toronto", "M5H 2N2", "+1 416", ".ca", 2.5),
    ("Canada", "QC", "Montreal", "H3B 4W8", "+1 514", ".ca", 1),
    ("Canada", "BC", "Vancouver", "V6B 1A1", "+1 604", ".ca", 1.5),
    ("Canada", "AB", "Calgary", "T2P 2M5", "+1 403", ".ca", 0.5),
    ("United Kingdom", None, "London", "EC2A 4NE", "+44 20", ".co.uk", 5),
    ("United Kingdom", None, "Manchester", "M1 1AE", "+44 161", ".co.uk", 1),
    ("Germany", None, "Berlin", "10115", "+49 30", ".de", 2.5),
    ("Germany", None, "Munich", "80331", "+49 89", ".de", 2),
    ("France", None, "Paris", "75002", "+33 1", ".fr", 3),
    ("Netherlands", None, "Amsterdam", "1012 AB", "+31 20", ".nl", 2),
    ("Ireland", None, "Dublin", "D02 X285", "+353 1", ".ie", 1),
    ("Sweden", None, "Stockholm", "111 22", "+46 8", ".se", 1),
    ("Spain", None, "Madrid", "28013", "+34 91", ".es", 1),
    ("Italy", None, "Milan", "20121", "+39 02", ".it", 1),
    ("Switzerland", None, "Zurich", "8001", "+41 44", ".ch", 1),
    ("Poland", None, "Warsaw", "00-001", "+48 22", ".pl", 1),
    ("Israel", None, "Tel Aviv", "6100000", "+972 3", ".co.il", 1),
    ("United Arab Emirates", None, "Dubai", "00000", "+971 4", ".ae", 1),
    ("South Africa", None, "Johannesburg", "2001", "+27 11", ".co.za", 0.7),
    ("Kenya", None, "Nairobi", "00100", "+254 20", ".co.ke", 0.4),
    ("Nigeria", None, "Lagos", "100001", "+234 1", ".ng", 0.4),
    ("Belgium", None, "Brussels", "1000", "+32 2", ".be", 0.5),
    ("Norway", None, "Oslo", "0150", "+47 22", ".no", 0.5),
    ("Denmark", None, "Copenhagen", "1050", "+45 33", ".dk", 0.5),
    ("Romania", None, "Bucharest", "010011", "+40 21", ".ro", 0.3),
    ("Jordan", None, "Amman", "11118", "+962 6", ".jo", 0.2),
    ("India", None, "Bangalore", "560001", "+91 80", ".in", 3),
    ("India", None, "Mumbai", "400001", "+91 22", ".in", 1.5),
    ("Australia", None, "Sydney", "2000", "+61 2", ".com.au", 2),
    ("Australia", None, "Melbourne", "3000", "+61 3", ".com.au", 1),
    ("Japan", None, "Tokyo", "100-0005", "+81 3", ".co.jp", 2),
    ("Singapore", None, "Singapore", "018956", "+65", ".sg", 1.5),
    ("South Korea", None, "Seoul", "04524", "+82 2", ".co.kr", 1),
    ("China", None, "Shanghai", "200000", "+86 21", ".cn", 0.7),
    ("New Zealand", None, "Auckland", "1010", "+64 9", ".co.nz", 0.5),
    ("Philippines", None, "Manila", "1000", "+63 2", ".ph", 0.5),
    ("Hong Kong", None, "Hong Kong", "999077", "+852", ".hk", 0.5),
    ("Indonesia", None, "Jakarta", "10110", "+62 21", ".co.id", 0.4),
    ("Vietnam", None, "Ho Chi Minh City", "700000", "+84 28", ".vn", 0.3),
    ("Malaysia", None, "Kuala Lumpur", "50088", "+60 3", ".my", 0.3),
    ("Brazil", None, "Sao Paulo", "01310-100", "+55 11", ".com.br", 2.5),
    ("Mexico", None, "Mexico City", "06500", "+52 55", ".com.mx", 1.5),
    ("Argentina", None, "Buenos Aires", "C1002", "+54 11", ".com.ar", 1),
    ("Chile", None, "Santiago", "8320000", "+56 2", ".cl", 0.5),
    ("Colombia", None, "Bogota", "110111", "+57 1", ".com.co", 0.7),
    ("Peru", None, "Lima", "15001", "+51 1", ".pe", 0.3),
    ("Panama", None, "Panama City", "0801", "+507", ".com.pa", 0.2),
)

STREETS = (
    "Market Street",
    "Main Street",
    "Mission Street",
    "Broadway",
    "King Street",
    "High Street",
    "Park Avenue",
    "Oak Avenue",
    "Harbour Road",
    "Station Road",
    "Innovation Drive",
    "Technology Parkway",
    "Commerce Way",
    "Riverside Drive",
    "Lake Shore Drive",
    "Church Street",
    "Queen Street",
    "Elm Street",
    "Sunset Boulevard",
    "Industrial Avenue",
)

FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth "
    "William Barbara Richard Susan Joseph Jessica Thomas Sarah Carlos Karen "
    "Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Paul Ashley Steven "
    "Emily Andrew Donna Joshua Michelle Kevin Carol Brian Amanda George "
    "Melissa Timothy Deborah Ronald Stephanie Jason Rebecca Ryan Laura "
    "Jacob Sharon Gary Cynthia Nicholas Kathleen Eric Amy Jonathan Angela "
    "Priya Rahul Ananya Arjun Wei Li Hiroshi Yuki Min-jun Seo-yeon Lukas "
    "Hannah Felix Lena Mateo Sofia Lucas Valentina Olivia Noah Emma Liam "
    "Chloe Ethan Aisha Omar Fatima Youssef Chinedu Ngozi Kwame Amara Lars "
    "Ingrid Sven Astrid Pierre Camille Giulia Marco Pablo Lucia Joao Ana "
    "Diego Isabella Raj Deepa Tomasz Agnieszka Ivan Olga Noa Yael Kenji "
    "Sakura Thanh Linh Rizal Siti"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez "
    "Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore "
    "Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
    "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Patel Sharma Gupta Singh Kumar Chen Wang Zhang Liu Tanaka "
    "Suzuki Sato Kim Park Choi Muller Schmidt Schneider Fischer Weber "
    "Becker Dubois Laurent Moreau Rossi Russo Ferrari Silva Santos Oliveira "
    "Costa Fernandes Okafor Adeyemi Mensah Haddad Khalil Cohen Levi Jansen "
    "Visser Bakker Andersson Johansson Nielsen Hansen Kowalski Nowak Ivanov "
    "Petrov Murphy Kelly O'Brien Walsh MacDonald Fraser Novak Horvat "
    "Popescu Yilmaz Demir Santoso Tran Pham Reyes Cruz Morales Ortiz Gomez "
    "Diaz Vargas Castillo"
)

# (title, weight); blank titles are None
LEAD_TITLES: tuple[tuple[str | None, float], ...] = (
    ("VP of Engineering", 3),
    ("VP, Information Technology", 1.5),
    ("Vice President of Technology", 1),
    ("Director of Engineering", 4),
    ("Director of IT", 3),
    ("Senior Director, Infrastructure", 1),
    ("Engineering Manager", 6),
    ("IT Manager", 4),
    ("Release Manager", 1.5),
    ("Product Manager", 2),
    ("Head of DevOps", 2),
    ("Head of Platform", 1.5),
    ("Senior Software Engineer", 5),
    ("Senior Developer", 3),
    ("Software Engineer", 8),
    ("Developer", 6),
    ("DevOps Engineer", 6),
    ("Site Reliability Engineer", 3),
    ("Security Engineer", 2),
    ("QA Engineer", 1.5),
    ("Platform Engineer", 2),
    ("Solutions Architect", 3),
    ("Software Architect", 2),
    ("CTO", 2),
    ("CIO", 1),
    ("Team Lead", 3),
    ("Consultant", 2),
    ("IT Administrator", 2),
    ("Student", 2),
    ("Owner", 1.5),
    ("Analyst", 2),
    (None, 9),
)
CONTACT_TITLES = (
    "CTO",
    "CIO",
    "VP of Engineering",
    "Director of Engineering",
    "Director of IT",
    "Engineering Manager",
    "Head of DevOps",
    "Procurement Manager",
    "Senior Software Engineer",
    "Solutions Architect",
    "IT Manager",
    "Head of Security",
    "Finance Director",
    "DevOps Engineer",
)

FREE_MAIL = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "protonmail.com",
    "gmx.de",
    "yahoo.co.in",
)

# Company names: a brand (prefix + suffix) and a business word; companies take
# the combinations PRE x SUF x WORDS in a shuffled order, so names never repeat.
NAME_PREFIXES = _words(
    "Ab Acc Ad Aer Al Alt Am Ap Ar Ast Av Ax Bel Bl Br Cal Cam Car Cel Cl "
    "Cor Cr Cyb Dal Dat Del Dyn El Em En Ev Ex Fal Fin Fl Fr Gal Gen Gl Gr "
    "Hal Hel Hor Hyd Il In Ir Jav Kal Kel Kin Lum Lyr Mag Mar Med Mer Mon "
    "Nav Neb Nex Nor Nov Oct Omn Or Pal Pan Pel Pr Qu Rad Ren Riv Sal Sen "
    "Sol St Syn Tal Tel Ter Tr Ult Ven Ver Vir Wav Xen Zen"
)
NAME_SUFFIXES = _words(
    "ara aris ava era ex exa ia ica ido ify ika ion ios ira is ium ix o ola "
    "on ona ora ori os ova um us yn ax eon etra ilo ine ino ista ity ium "
    "oda olt ome onic opia ora orum ovo ura ynx yra abyte acore aflow agrid "
    "alink apoint aspan astack awave azone ebase edge ehub eloop enet "
    "escape esoft ewise iflex igen ilab ipath ishift iverse"
)
# (business word, industry)
NAME_WORDS: tuple[tuple[str, str], ...] = (
    ("Systems", "Technology"),
    ("Labs", "Technology"),
    ("Software", "Software"),
    ("Technologies", "Technology"),
    ("Networks", "Telecommunications"),
    ("Telecom", "Telecommunications"),
    ("Analytics", "Software"),
    ("Cloud", "Software"),
    ("Data", "Software"),
    ("Security", "Software"),
    ("Robotics", "Manufacturing"),
    ("Industries", "Manufacturing"),
    ("Motors", "Automotive"),
    ("Semiconductor", "Manufacturing"),
    ("Health", "Healthcare"),
    ("Medical", "Healthcare"),
    ("Pharma", "Healthcare"),
    ("Biotech", "Healthcare"),
    ("Bank", "Financial Services"),
    ("Capital", "Financial Services"),
    ("Insurance", "Financial Services"),
    ("Payments", "Financial Services"),
    ("Energy", "Energy"),
    ("Power", "Energy"),
    ("Mining", "Energy"),
    ("Logistics", "Transportation"),
    ("Airlines", "Transportation"),
    ("Freight", "Transportation"),
    ("Retail", "Retail"),
    ("Foods", "Retail"),
    ("Apparel", "Retail"),
    ("Media", "Entertainment"),
    ("Games", "Entertainment"),
    ("Studios", "Entertainment"),
    ("Education", "Education"),
    ("Consulting", "Services"),
    ("Partners", "Services"),
    ("Group", "Services"),
    ("Hotels", "Hospitality"),
    ("Holdings", "Financial Services"),
)
LEGAL_SUFFIXES = (
    "",
    "",
    "",
    " Inc.",
    " LLC",
    " Ltd",
    " GmbH",
    " Corp.",
    " S.A.",
    " AG",
)
NAME_SPACE = len(NAME_PREFIXES) * len(NAME_SUFFIXES) * len(NAME_WORDS)

PUBLIC_PLACES = (
    "City of Austin",
    "City of Boston",
    "City of Denver",
    "City of Seattle",
    "City of Chicago",
    "City of Atlanta",
    "City of Phoenix",
    "City of Raleigh",
    "State of Ohio",
    "State of Texas",
    "State of Virginia",
    "State of Colorado",
    "State of Oregon",
    "State of Georgia",
    "State of Minnesota",
    "State of Utah",
    "Fairfax County",
    "Maricopa County",
    "King County",
    "Cook County",
    "Travis County",
    "Wake County",
    "Hennepin County",
    "Miami-Dade County",
    "US Department of Energy",
    "US Department of Veterans Affairs",
    "US Department of Transportation",
    "US Department of Agriculture",
    "US Air Force",
    "US Navy",
    "US Army",
    "National Weather Service",
)
PUBLIC_UNITS = (
    "",
    " IT Services",
    " Digital Services",
    " Cybersecurity Office",
    " Public Health",
    " Transit Authority",
    " Research Lab",
    " Water Utility",
)

# Lead sources: name, form (the lead is created by its inbound touch),
# low (the touches of an Inquiry that stays below the MQL threshold), high (the
# path to MQL). The first kind of each is the hand-raise that makes the lead an
# Inquiry (D2 round 2: a kind of ``INQUIRY_ENGAGEMENT_KINDS``, light enough in
# ``low`` to stay below the threshold); page visits only come after it.
SOURCE_DEFS: tuple[tuple[str, bool, tuple[K, ...], tuple[K, ...]], ...] = (
    (
        "Web Direct",
        True,
        # a question in the site's chat; the pages it was asked from after
        (
            K.WEB_CHAT,
            K.PRICING_PAGE_VISIT,
            K.FEATURES_PAGE_VISIT,
            K.INSTALLATION_PAGE_VISIT,
        ),
        (K.TRIAL_REQUEST, K.PRICING_PAGE_VISIT, K.ENTERPRISE_TRIAL_PAGE_VISIT),
    ),
    (
        "Trial - Enterprise",
        True,
        # asked in the trial page's chat, never completed the form
        (K.WEB_CHAT, K.ENTERPRISE_TRIAL_PAGE_VISIT, K.FEATURES_PAGE_VISIT),
        (K.TRIAL_REQUEST,),
    ),
    (
        "GitLab.com",
        True,
        # signed up with the marketing opt-in ticked
        (
            K.NEWSLETTER_OPT_IN,
            K.INSTALLATION_PAGE_VISIT,
            K.FEATURES_PAGE_VISIT,
            K.PRICING_PAGE_VISIT,
        ),
        (K.TRIAL_REQUEST,),
    ),
    (
        "Contact Us",
        True,
        (K.WEB_CHAT, K.PRICING_PAGE_VISIT),
        (K.CONTACT_US_REQUEST,),
    ),
    (
        "Webcast",
        True,
        (
            K.WEBCAST_REGISTRATION,
            K.LOW_INTENT_LIVE_ATTENDED,
            K.LOW_INTENT_ON_DEMAND_WATCHED,
            K.WEBCAST_EMAIL_OPT_IN,
        ),
        (K.WEBCAST_REGISTRATION, K.HIGH_INTENT_LIVE_ATTENDED),
    ),
    (
        "Trade Show",
        False,
        (K.TRADESHOW_BOOTH_VISIT, K.LIVE_EVENT_EMAIL_OPT_IN),
        (K.TRADESHOW_BOOTH_VISIT, K.LIVE_EVENT_ATTENDED, K.ENTERPRISE_TRIAL_PAGE_VISIT),
    ),
    (
        "Organic Search",
        True,
        (K.GATED_ASSET_DOWNLOAD, K.FEATURES_PAGE_VISIT, K.NEWSLETTER_OPT_IN),
        (K.GATED_ASSET_DOWNLOAD, K.CONTACT_US_REQUEST),
    ),
    (
        "Paid Search",
        True,
        (K.GATED_ASSET_DOWNLOAD, K.PRICING_PAGE_VISIT),
        (K.GATED_ASSET_DOWNLOAD, K.TRIAL_REQUEST),
    ),
    (
        "Referral",
        False,
        (K.WEB_CHAT, K.FEATURES_PAGE_VISIT),
        (K.CONTACT_US_REQUEST,),
    ),
    (
        "Outbound",
        False,
        (K.NEWSLETTER_OPT_IN, K.WEB_CHAT),
        (K.HIGH_INTENT_ON_DEMAND_WATCHED, K.ENTERPRISE_TRIAL_PAGE_VISIT),
    ),
    (
        "CE Download",
        False,
        # subscribed to the security release notices of the edition it runs
        (K.SECURITY_NEWSLETTER_OPT_IN, K.INSTALLATION_PAGE_VISIT),
        (K.TRIAL_REQUEST, K.INSTALLATION_PAGE_VISIT),
    ),
    (
        "Support",
        False,
        (K.WEB_CHAT,),
        (K.CONTACT_US_REQUEST,),
    ),
    (
        "Gated Content",
        True,
        (K.GATED_ASSET_DOWNLOAD,),
        (K.GATED_ASSET_DOWNLOAD, K.HIGH_INTENT_ON_DEMAND_WATCHED, K.PRICING_PAGE_VISIT),
    ),
    (
        "Newsletter",
        True,
        (K.NEWSLETTER_OPT_IN, K.SECURITY_NEWSLETTER_OPT_IN),
        (K.NEWSLETTER_OPT_IN, K.HIGH_INTENT_LIVE_ATTENDED),
    ),
    (
        "Professional Services",
        True,
        (K.WEB_CHAT, K.FEATURES_PAGE_VISIT),
        (K.PROFESSIONAL_SERVICES_REQUEST,),
    ),
    (
        "Partner",
        False,
        (K.WEB_CHAT,),
        (K.CONTACT_US_REQUEST,),
    ),
    (
        "Social Media",
        True,
        (K.GATED_ASSET_DOWNLOAD, K.WEBCAST_REGISTRATION),
        (K.GATED_ASSET_DOWNLOAD, K.ENTERPRISE_TRIAL_PAGE_VISIT, K.PRICING_PAGE_VISIT),
    ),
)
SOURCE_INDEX = {name: i for i, (name, *_rest) in enumerate(SOURCE_DEFS)}
# weights of the sources by the kind of path a lead took
SOURCES_NO_TOUCH = {  # RAW; imported lists and prospecting
    "Trade Show": 25,
    "Outbound": 25,
    "Webcast": 10,
    "CE Download": 15,
    "Referral": 5,
    "Support": 5,
    "Partner": 5,
    "GitLab.com": 10,
}
SOURCES_INQUIRY = {  # inbound, never an MQL
    "Web Direct": 12,
    "Organic Search": 15,
    "Paid Search": 12,
    "Webcast": 15,
    "Trade Show": 10,
    "GitLab.com": 10,
    "CE Download": 6,
    "Gated Content": 8,
    "Newsletter": 5,
    "Trial - Enterprise": 4,
    "Social Media": 3,
}
SOURCES_MQL = {
    "Trial - Enterprise": 20,
    "Contact Us": 15,
    "Webcast": 12,
    "GitLab.com": 12,
    "Web Direct": 8,
    "Paid Search": 8,
    "Organic Search": 8,
    "Trade Show": 6,
    "Referral": 4,
    "Professional Services": 2,
    "Partner": 3,
    "Gated Content": 2,
}
SOURCES_SALES_TOUCH = {  # accepted without ever being an MQL
    "Referral": 40,
    "Outbound": 30,
    "Support": 15,
    "Partner": 15,
}
CONTACT_SOURCES = {
    "Outbound": 20,
    "Referral": 10,
    "Trade Show": 12,
    "Web Direct": 10,
    "Contact Us": 10,
    "Trial - Enterprise": 8,
    "Webcast": 8,
    "Partner": 8,
    "Organic Search": 6,
    "Support": 4,
    "CE Download": 4,
}
ACCOUNT_SOURCES = (
    "Outbound",
    "Web Direct",
    "Trade Show",
    "Referral",
    "Partner",
    "Inbound",
    "Data Enrichment",
)

# Campaigns: key (webcast, event, or the lead source it is attributed to),
# name, channel, spend range in USD, start (days before now), days running.
_CAMPAIGN_TABLE = """
webcast            | CI_CD_Deep_Dive                        | EMAIL        |  3000 |  12000 | 500 | 1
webcast            | DevSecOps_in_Practice                  | EMAIL        |  3000 |  12000 | 390 | 1
webcast            | GitOps_for_Kubernetes                  | EMAIL        |  3000 |  12000 | 260 | 1
webcast            | Platform_Engineering_101               | EMAIL        |  3000 |  12000 | 150 | 1
webcast            | AI_Assisted_Code_Review                | EMAIL        |  3000 |  12000 |  45 | 1
event              | AWS re:Invent                          | SPONSORSHIP  | 90000 | 250000 | 470 | 4
event              | KubeCon Europe                         | SPONSORSHIP  | 60000 | 180000 | 330 | 3
event              | DevOps Enterprise Summit               | SPONSORSHIP  | 40000 | 120000 | 200 | 3
event              | Open Source Summit                     | SPONSORSHIP  | 30000 |  90000 |  80 | 3
Paid Search        | Google Ads - Brand Search              | CPC          | 80000 | 220000 | 540 |
Paid Search        | Google Ads - Competitor Terms          | CPC          | 60000 | 160000 | 400 |
Paid Search        | Bing Ads - Generic Search              | CPC          | 10000 |  40000 | 300 |
Social Media       | LinkedIn Ads - DevOps Leaders          | PAID_SOCIAL  | 40000 | 120000 | 360 |
Social Media       | Organic Social - Release Posts         | SOCIAL       |  2000 |   8000 | 540 |
Web Direct         | Display Retargeting - Pricing Visitors | DISPLAY      | 20000 |  70000 | 420 |
Organic Search     | SEO - DevOps Platform Guide            | ORGANIC      |  5000 |  20000 | 540 |
Partner            | Channel Partner Referral Program       | PARTNERS     | 15000 |  60000 | 540 |
Trial - Enterprise | Website - Free Trial                   | WEB_DIRECT   |  5000 |  15000 | 540 |
Contact Us         | Website - Contact Sales                | WEB_DIRECT   |  2000 |   8000 | 540 |
Referral           | Review Sites - Referral Listings       | WEB_REFERRAL |  8000 |  30000 | 540 |
Newsletter         | Monthly Newsletter                     | EMAIL        |  3000 |   9000 | 540 |
Gated Content      | Content Syndication - Gated eBooks     | OTHER        | 20000 |  60000 | 480 |
"""  # noqa: E501
CAMPAIGN_DEFS = [
    (
        key,
        name,
        CampaignChannel[channel],
        int(low),
        int(high),
        int(ago),
        int(days) if days else None,
    )
    for key, name, channel, low, high, ago, days in (
        [cell.strip() for cell in line.split("|")]
        for line in _CAMPAIGN_TABLE.strip().splitlines()
    )
]
SOURCE_CAMPAIGN_ALIASES = {
    "GitLab.com": "Trial - Enterprise",
    "Professional Services": "Contact Us",
    "CE Download": "Newsletter",
}


def slug(text_: str) -> str:
    """Lower-case letters and digits of a text ("Gekko & Co" → "gekkoco")."""
    return "".join(ch for ch in text_.lower() if ch.isalnum())


_SLUGS: dict[str, str] = {}


def email_local(first: str, last: str, style: float) -> str:
    """The local part of a person's email, in one of four house styles."""
    first_ = _SLUGS.get(first) or _SLUGS.setdefault(first, slug(first))
    last_ = _SLUGS.get(last) or _SLUGS.setdefault(last, slug(last))
    if style < 0.7:
        return f"{first_}.{last_}"
    if style < 0.85:
        return f"{first_[0]}{last_}"
    if style < 0.95:
        return f"{first_}{last_[0]}"
    return f"{first_}_{last_}"


class Emails:
    """Emails unique among leads and contacts: a taken one gets a number."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.bumps: dict[str, int] = {}

    def unique(self, local: str, domain: str) -> str:
        """``local@domain``, or ``local<n>@domain`` with the first free ``n``."""
        email = f"{local}@{domain}"
        seen = self.seen
        if email in seen:
            n = self.bumps.get(email, 1)
            while True:
                n += 1
                candidate = f"{local}{n}@{domain}"
                if candidate not in seen:
                    break
            self.bumps[email] = n
            email = candidate
        seen.add(email)
        return email
