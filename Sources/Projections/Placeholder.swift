import Campaign
