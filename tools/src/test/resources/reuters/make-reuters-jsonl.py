# Makes reuters-acq-crude.jsonl from Debian's r-cran-tm package (texts/acq and texts/crude: Reuters-21578 documents).
#   apt-get download r-cran-tm && dpkg-deb -x r-cran-tm_*.deb tm
#   python3 make-reuters-jsonl.py tm/usr/lib/R/site-library/tm/texts > reuters-acq-crude.jsonl
import json, os, sys
import xml.etree.ElementTree as ET

texts = sys.argv[1]
for label in ("acq", "crude"):
    for name in sorted(os.listdir(os.path.join(texts, label))):
        root = ET.parse(os.path.join(texts, label, name)).getroot()
        title = " ".join((root.findtext("TEXT/TITLE") or "").split())
        body = " ".join((root.findtext("TEXT/BODY") or "").split())
        if body.endswith(" Reuter"):
            body = body[: -len(" Reuter")]
        print(json.dumps({"id": label + "/" + name, "text": title + ". " + body, "label": label}))
