#!/usr/bin/env bash
# Loads the demo review into a running rqs-server through the rqs CLI, as a
# coordinator and three raters would:
#
#   deploy/demo/load.sh RQS_BINARY ADMIN_TOKEN TOKEN_DIR
#
# Creates the raters alice, bob and carol (their tokens go to TOKEN_DIR/NAME),
# the review "Demo: radiomics in oncology" with the default consensus policy
# (the admin coordinates it), its ten studies (studies.csv) and an assignment
# of every study to all three raters; then runs a complete Delphi cycle:
#   round 1  each rater's independent assessment (answers.txt); each study's
#            round closes by itself with its last submission;
#   round 2  answers to the disputed criteria only (round2.txt);
#   round 3  what is still disputed (round3.txt);
#   then the coordinator adjudicates what stayed disputed (adjudications.txt).
# RQS_SERVER must name the server.
set -euo pipefail
rqs=$1
admin_token=$2
token_dir=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$token_dir"
chmod 700 "$token_dir"

as_admin() { RQS_TOKEN=$admin_token "$rqs" "$@"; }

declare -A user_ids
for name in alice bob carol; do
  user_ids[$name]=$(as_admin user create "$name" | awk 'NR == 2 { print $1 }')
  as_admin token issue "${user_ids[$name]}" --label demo > "$token_dir/$name" 2>/dev/null
  chmod 600 "$token_dir/$name"
done

review=$(as_admin review create "Demo: radiomics in oncology" --instrument rqs2 --target-rrl 9 |
  awk 'NR == 2 { print $1 }')
for name in alice bob carol; do
  as_admin member add "$review" "${user_ids[$name]}" rater > /dev/null
done
as_admin study import "$review" "$here/studies.csv" > /dev/null 2>&1

# External id (last column of the table) -> study id and type.
declare -A study_ids study_types
while read -r id type rest; do
  external=${rest##* }
  study_ids[$external]=$id
  study_types[$external]=$type
done < <(as_admin study list "$review" | tail -n +2)

pairs=()
for external in "${!study_ids[@]}"; do
  for name in alice bob carol; do pairs+=("${study_ids[$external]}:${user_ids[$name]}"); done
done
as_admin assign "$review" "${pairs[@]}" > /dev/null 2>&1

# One answer file per line of a ratings file, submitted with the rater's
# token; the server files it under the study's open round.
answer_file=$(mktemp)
trap 'rm -f "$answer_file"' EXIT
submit_ratings() {
  local external name answers
  while read -r external name answers; do
    [[ -z "$external" || "$external" == \#* ]] && continue
    {
      printf '{"instrument": "rqs2", "study_type": "%s", "answers": [' "${study_types[$external]}"
      separator=""
      for answer in $answers; do
        criterion=${answer%%=*}
        option=${answer#*=}
        if [[ "$option" == *+* || "$criterion" =~ ^(17|20|28)$ ]]; then
          printf '%s{"criterion": %s, "options": ["%s"]}' "$separator" "$criterion" "${option//+/\", \"}"
        else
          printf '%s{"criterion": %s, "option": "%s"}' "$separator" "$criterion" "$option"
        fi
        separator=", "
      done
      printf ']}\n'
    } > "$answer_file"
    RQS_TOKEN=$(cat "$token_dir/$name") "$rqs" submit "${study_ids[$external]}" "$answer_file" \
      --review "$review" > /dev/null
  done < "$1"
}
submit_ratings "$here/answers.txt"
submit_ratings "$here/round2.txt"
submit_ratings "$here/round3.txt"

while read -r external criterion option reason; do
  [[ -z "$external" || "$external" == \#* ]] && continue
  as_admin adjudicate --review "$review" --study "${study_ids[$external]}" \
    --criterion "$criterion" --option "$option" --reason "$reason" > /dev/null
done < "$here/adjudications.txt"
echo "$review"
